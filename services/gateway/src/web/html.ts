// HTML built with a tagged template that escapes every interpolated value unless it is itself
// built with `html`: user data (file names, failure reasons, profile fields) can never become markup.
const MARK = Symbol('html');

export interface Html {
  readonly [MARK]: true;
  readonly text: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function isHtml(v: unknown): v is Html {
  return typeof v === 'object' && v !== null && MARK in v;
}

function render(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (isHtml(v)) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  // Numbers, booleans and dates print as themselves.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let text = strings[0]!;
  for (let i = 0; i < values.length; i++) text += render(values[i]) + strings[i + 1]!;
  return { [MARK]: true, text };
}
