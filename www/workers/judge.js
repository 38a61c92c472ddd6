// The judge's commands in the training worker: load the classifier into the Session, and judge
// a table of sample kinds, one shipped checkpoint per row, on the data loaded. The checkpoints
// borrow the session's data for their row and the model on the page stays. Every number comes
// from the Session; this file only downloads and routes.

import { Cmd, msg } from '../app/protocol.js';

const fetchBytes = async (url) => {
  const response = await fetch(new URL(url, new URL('../', import.meta.url)));
  if (!response.ok) throw new Error(`could not download ${response.url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
};

export class JudgeRunner {
  /** @param {(message, transfer) => void} post sends to the page */
  constructor(post) {
    this.post = post;
    /** The address of the judge in the session (a new address is a new file). */
    this.loadedUrl = null;
  }

  /** Loads the judge at `url` unless it is the one in place. */
  async load(session, url) {
    if (this.loadedUrl === url && session.hasJudge()) return;
    this.post(msg.judgeLoaded(session.loadJudge(await fetchBytes(url))));
    this.loadedUrl = url;
  }

  /** @param {() => object} dataSession the Session with data loaded, or throws why not */
  handlers(dataSession) {
    return {
      [Cmd.JUDGE_LOAD]: ({ url }) => this.load(dataSession(), url),
      [Cmd.JUDGE_TABLE]: async ({ judgeUrl, rows, count, seed }) => {
        const session = dataSession();
        await this.load(session, judgeUrl);
        for (const [index, { source, url, priorUrl }] of rows.entries()) {
          this.post(msg.judgeProgress(index, rows.length));
          const [checkpoint, prior] = await Promise.all([fetchBytes(url), priorUrl ? fetchBytes(priorUrl) : null]);
          const m = msg.judgeRow(index, session.judgeCheckpoint(source, checkpoint, prior ?? undefined, count, BigInt(seed)));
          this.post(m, [m.examples.buffer, m.exampleClasses.buffer]);
        }
        this.post(msg.judgeProgress(rows.length, rows.length));
      },
    };
  }
}
