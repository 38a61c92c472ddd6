// Four IDX files into a wasm Session without a fresh copy each time: the session lends a
// reusable room in its own memory (Session.stageFiles), the files are written straight into
// it, and Rust reads them from there. Fresh tens-of-megabyte copies at every dataset switch
// fragmented the never-shrinking wasm heap into growth.

/** `session.setData(...files)`, through the session's reusable room. */
export function setIdxFiles(session, files) {
  const room = session.stageFiles(Uint32Array.from(files, (f) => f.length));
  // The view is valid only until the session allocates again: fill it before the next call.
  let at = 0;
  for (const file of files) {
    room.set(file, at);
    at += file.length;
  }
  session.setStagedData();
}
