import type { UploadDeps } from '../upload.ts';
import type { IdentityStores } from '../identity/index.ts';

/** What the web pages need, on top of what an upload needs. */
export interface WebDeps extends UploadDeps {
  identity: IdentityStores;
  sessionMaxMs: number;
  /** Sample VCFs users can try with one click (file names in this folder), if configured. */
  samplesDir?: string;
  /** Annotators taking jobs now; unknown (no notice shown) when absent. */
  annotators?: { available(): number };
}
