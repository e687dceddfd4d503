// JSON schemas of the /api/v1 routes. Fastify serialises the job and list answers with them, and
// @fastify/swagger turns them into the OpenAPI document (/api/openapi.json, /api/docs).
//
// A response schema is also a filter: fast-json-stringify leaves out every property it does not
// list. The job schema therefore lists every field jobView() returns, with the type it can really
// have (every timestamp can be null), and test/api-schemas.test.ts compares the two.

export const JOB_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED'] as const;
export const JOB_ID_PATTERN = '^[0-9A-HJKMNP-TV-Z]{26}$';

const count = (description: string) => ({ type: 'integer', minimum: 0, description });
const timestamp = (description: string) => ({ type: ['string', 'null'], format: 'date-time', description });
const link = (description: string) => ({ type: 'string', description });

/** RFC 9457 problem details, as problem.ts sends them. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'An error (RFC 9457 problem details). Branch on `status`; `detail` is a sentence for people.',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', description: 'Always `about:blank`: the status says what kind of error it is.' },
    title: { type: 'string', description: 'The HTTP reason phrase, e.g. `Not Found`.' },
    status: { type: 'integer', description: 'The HTTP status code.' },
    detail: { type: 'string', description: 'What went wrong and, where it helps, what to do about it.' },
    result_state: {
      type: 'string',
      enum: ['ARCHIVED', 'RESTORING'],
      description: "Only on a 409 for a result in cold storage: the job's `result_state`.",
    },
    expected_at: {
      type: 'string',
      format: 'date-time',
      description: 'Only on a 409 for a result being restored: when it is expected back (also as `Retry-After`).',
    },
  },
} as const;

export const jobSchema = {
  $id: 'Job',
  type: 'object',
  description: 'A job as its owner sees it. Timestamps are ISO 8601 in UTC, or null when not reached.',
  required: [
    'id',
    'status',
    'genome_build',
    'input_name',
    'input_size',
    'created_at',
    'started_at',
    'finished_at',
    'updated_at',
    'attempt',
    'failure_reason',
    'warnings',
    'progress',
    'queue_position',
    'result_state',
    'archived_kinds',
    'archived_at',
    'restore_expected_at',
    'restored_at',
    'result_size',
    'counts',
    'links',
  ],
  properties: {
    id: { type: 'string', pattern: JOB_ID_PATTERN, description: 'A ULID: 26 characters that sort by creation time.' },
    status: { type: 'string', enum: JOB_STATUSES },
    genome_build: { type: ['string', 'null'], enum: ['GRCh37', 'GRCh38', null] },
    input_name: {
      type: 'string',
      description: 'The uploaded file name made safe (last path segment, `A-Z a-z 0-9 . _ -`, at most 128 characters).',
    },
    input_size: count('Bytes uploaded.'),
    created_at: timestamp('When the job was created.'),
    started_at: timestamp('When the current (or last) attempt started running.'),
    finished_at: timestamp('When the job became COMPLETED or FAILED.'),
    updated_at: timestamp('The last change.'),
    attempt: count('The delivery attempt that holds or held the job: 0 before it first runs, more than 1 after a retry.'),
    failure_reason: { type: ['string', 'null'], description: 'Why a FAILED job failed.' },
    warnings: {
      type: 'array',
      description:
        'What to know about the results though the job did not fail. Set at upload when the header points to another genome ' +
        'build, and replaced by the annotator (which reads the whole header and counts the variants) when the job completes.',
      items: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: {
            type: 'string',
            description:
              '`build_mismatch` (the header looks like another build), `uncovered_chromosomes` (10 % or more of the variants ' +
              'are on chromosomes the reference has no gene models for), `no_dbsnp_chromosomes` (the same for dbSNP), ' +
              "`outside_chromosome` (records at POS 0 or past their chromosome's length, not annotated).",
          },
          message: { type: 'string', description: 'A sentence for people.' },
        },
      },
    },
    progress: {
      type: ['object', 'null'],
      description: 'Records done while RUNNING (`total` is an estimate); null otherwise.',
      required: ['done', 'total'],
      properties: { done: count('Records annotated so far.'), total: count('Records expected.') },
    },
    queue_position: {
      type: ['integer', 'null'],
      minimum: 1,
      description: '1 = next to run; only in GET /api/v1/jobs/{id} while PENDING, null otherwise.',
    },
    result_state: {
      type: ['string', 'null'],
      enum: ['AVAILABLE', 'ARCHIVED', 'RESTORING', null],
      description: 'Where the results are once COMPLETED; null before.',
    },
    archived_kinds: {
      type: 'array',
      items: { type: 'string' },
      description:
        'The result kinds in cold storage while `result_state` is ARCHIVED or RESTORING (`vcf`, `tsv`, `tbi`): their downloads ' +
        'answer 409 until the results are AVAILABLE again. The summary and the log stay hot. Empty otherwise.',
    },
    archived_at: timestamp('When the results last moved to cold storage; null if they never did.'),
    restore_expected_at: timestamp('While RESTORING: when the results are expected back; null otherwise.'),
    restored_at: timestamp('When the results last came back from cold storage; null if they never did.'),
    result_size: count('Total bytes of the result files; 0 until COMPLETED.'),
    counts: {
      type: ['object', 'null'],
      description: 'Once COMPLETED: data lines, record–ALT pairs and their kinds.',
      required: ['records', 'alleles', 'snvs', 'indels', 'other'],
      properties: {
        records: count('Data lines read.'),
        alleles: count('Record–ALT pairs.'),
        snvs: count('Single-nucleotide ALTs.'),
        indels: count('Insertion and deletion ALTs.'),
        other: count('Other ALTs (MNVs, symbolic, ...).'),
      },
    },
    links: {
      type: 'object',
      description: 'Where to find the job and, once COMPLETED, its downloads.',
      required: ['self'],
      properties: {
        self: link('This job.'),
        result: link('The annotated VCF (BGZF).'),
        log: link('The .count.log.'),
        summary: link('The summary as JSON.'),
        tsv: link('The annotation table (gzip), when the job has one.'),
        tbi: link("The annotated VCF's tabix index, when its records are sorted."),
      },
    },
  },
} as const;

export const jobListSchema = {
  $id: 'JobList',
  type: 'object',
  required: ['jobs', 'next_page_token'],
  properties: {
    jobs: { type: 'array', items: { $ref: 'Job#' }, description: 'Newest first; `queue_position` is always null here.' },
    next_page_token: { type: ['string', 'null'], description: 'Pass as `page_token` for the next page; null on the last page.' },
  },
} as const;

/** How to upload a file: straight to object storage on a ticket, or to the gateway (`stream`). */
export const uploadTicketSchema = {
  $id: 'UploadTicket',
  type: 'object',
  required: ['method'],
  properties: {
    method: {
      type: 'string',
      enum: ['post', 'multipart', 'stream'],
      description:
        '`post`: one form POST to `url` with `fields` then `file`; `multipart`: PUT each part to its URL; `stream`: POST the file to `url` on the gateway.',
    },
    ticket: { type: 'string', description: 'Redeem it at /api/v1/uploads/complete once the file is in storage.' },
    url: { type: 'string' },
    fields: { type: 'object', additionalProperties: { type: 'string' } },
    part_size: { type: 'integer', description: 'Bytes per part; the last part is the rest.' },
    parts: { type: 'array', items: { type: 'object', properties: { part_number: { type: 'integer' }, url: { type: 'string' } } } },
    expires_in: { type: 'integer', description: 'Seconds the upload URLs stay valid.' },
  },
} as const;

export const ticketRequestBody = {
  type: 'object',
  required: ['file_name', 'size', 'genome_build'],
  properties: {
    file_name: { type: 'string', description: 'The file name as the user knows it.' },
    size: { type: 'integer', minimum: 1, description: "Bytes; checked against the plan's limit before anything is sent." },
    genome_build: { type: 'string', enum: ['GRCh37', 'GRCh38'] },
  },
} as const;

export const ticketRedeemBody = {
  type: 'object',
  required: ['ticket'],
  properties: {
    ticket: { type: 'string' },
    parts: {
      type: 'array',
      description: 'For a multipart ticket: every part with the ETag storage answered.',
      items: { type: 'object', properties: { part_number: { type: 'integer' }, etag: { type: 'string' } } },
    },
  },
} as const;

/** The shared schemas the route schemas refer to by `$ref`. */
export const apiSchemas = [problemSchema, jobSchema, jobListSchema, uploadTicketSchema];

/** Answers of one status, in one or more media types. */
export function answer(description: string, content: Record<string, object>, headers?: Record<string, object>) {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema }])),
  };
}

const problemRef = { $ref: 'Problem#' };

/** A problem+json answer for each of `statuses`, described by `why`. */
export function problems(why: Partial<Record<number, string>>) {
  return Object.fromEntries(
    Object.entries(why).map(([status, description]) => [
      status,
      status === '429'
        ? answer(
            description!,
            { 'application/problem+json': problemRef },
            { 'Retry-After': { type: 'integer', description: 'Seconds until the budget refills.' } },
          )
        : answer(description!, { 'application/problem+json': problemRef }),
    ]),
  );
}

/** The failures every /api/v1 route can answer. */
export const COMMON_PROBLEMS = {
  401: 'No credentials, or an API token that is not valid (`WWW-Authenticate` says which).',
  429: 'Too many requests in the last minute; `Retry-After` says how many seconds to wait.',
  500: 'An unexpected failure; `detail` gives the request id to quote.',
  503: 'The job service is down, did not answer in time, or its store is unavailable; retry later.',
} as const;

/** Either credential: an API token, or the browser session (changes also need X-CSRF-Token). */
export const API_SECURITY: ReadonlyArray<Record<string, readonly string[]>> = [{ bearerAuth: [] }, { cookieAuth: [] }];

export const jobIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: JOB_ID_PATTERN, description: 'The job id (a ULID).' } },
} as const;

export const listQuery = {
  type: 'object',
  properties: {
    page_size: { type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'Jobs per page, 1–100.' },
    page_token: { type: 'string', description: '`next_page_token` from the previous page.' },
    status: { type: 'string', enum: JOB_STATUSES, description: 'Only jobs in this state (case does not matter).' },
  },
} as const;

/** The multipart upload, for the document only: the route reads it as a stream. */
export const uploadBody = {
  type: 'object',
  required: ['genome_build', 'file'],
  properties: {
    genome_build: {
      type: 'string',
      enum: ['GRCh37', 'GRCh38'],
      description: 'Must come before the file in the form (or be sent as `?genome_build=`).',
    },
    file: { type: 'string', format: 'binary', description: 'The VCF: plain text, gzip or BGZF.' },
  },
} as const;

export const uploadHeaders = {
  type: 'object',
  properties: {
    'Idempotency-Key': {
      type: 'string',
      maxLength: 255,
      description: 'The same user sending the same key again within the idempotency window gets the first job back with 200.',
    },
  },
} as const;

export const uploadQuery = {
  type: 'object',
  properties: {
    genome_build: {
      type: 'string',
      enum: ['GRCh37', 'GRCh38'],
      description: 'Instead of the form field; the field wins when both are sent.',
    },
  },
} as const;
