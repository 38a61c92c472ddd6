// Static server for the page tests; the implementation is shared with serve.sh.
//   const { url, close } = await startServer(new URL('../../www/', import.meta.url).pathname);
export { startServer } from '../../pkg-config/serve.mjs';
