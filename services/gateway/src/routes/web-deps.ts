import type { UploadDeps } from '../upload.ts';
import type { IdentityStores } from '../identity/index.ts';
import type { NoticeClient } from '../notice-view.ts';
import type { AdminList } from '../admin-state.ts';
import type { JobCache } from '../job-cache.ts';
import type { EmailConfirmations } from '../email-confirmation.ts';
import type { FlashNotices } from '../flash-notice.ts';

/** What the web pages need, on top of what an upload needs. */
export interface WebDeps extends UploadDeps {
  identity: IdentityStores;
  /** The notification service's notices: the header count, /notices, the job page, the live stream. */
  notices: NoticeClient;
  sessionMaxMs: number;
  /** Sample VCFs users can try with one click (file names in this folder), if configured. */
  samplesDir?: string;
  /** Annotators taking jobs now; unknown (no notice shown) when absent. */
  annotators?: { available(): number };
  /** Whether accounts have proven they own their addresses, and the links that prove it. */
  confirmations: EmailConfirmations;
  /** Who sees the admin page (and the header's link to it). */
  admins?: AdminList;
  /** The jobs of the users reading them now (the API's list and detail). */
  jobCache?: JobCache;
  /** Notices for the page after a redirect that cannot check them itself (the landing page after an account's deletion). */
  flash?: FlashNotices;
}
