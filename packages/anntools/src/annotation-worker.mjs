// Entry of an AnnotationPool worker. Node 20 workers do not inherit tsx's loader from --import, so
// the TypeScript worker is loaded through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./annotation-worker.ts', import.meta.url);
