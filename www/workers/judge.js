// The judge's commands in the training worker: load the classifier into the Session, and judge
// a table of sample kinds, one shipped checkpoint per row, on the data loaded, beside the
// command queue. The checkpoints borrow the session's data for their row and the model on the
// page stays. Every number comes
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
    /** Bumping it stops a table being judged at its next row. */
    this.tableId = 0;
  }

  /** Loads the judge at `url` unless it is the one in place. */
  async load(session, url) {
    if (this.loadedUrl === url && session.hasJudge()) return;
    this.post(msg.judgeLoaded(session.loadJudge(await fetchBytes(url))));
    this.loadedUrl = url;
  }

  /**
   * @param {() => object} anySession the Session, or throws why there is none
   * @param {() => object} dataSession the Session with data loaded, or throws why not
   */
  handlers(anySession, dataSession) {
    return {
      [Cmd.JUDGE_LOAD]: ({ url }) => this.load(anySession(), url),
      [Cmd.JUDGE_TABLE]: async ({ judgeUrl, rows, count, seed }) => {
        await this.load(dataSession(), judgeUrl);
        const id = ++this.tableId;
        this.table(dataSession, id, rows, count, seed).catch((err) => this.post(msg.error(err instanceof Error ? err.message : String(err))));
      },
    };
  }

  /**
   * Judges `rows` one at a time beside the command queue (training and other commands go on
   * between rows); a newer table stops this one.
   */
  async table(dataSession, id, rows, count, seed) {
    for (const [index, { source, url, priorUrl }] of rows.entries()) {
      if (id !== this.tableId) return;
      this.post(msg.judgeProgress(index, rows.length));
      const [checkpoint, prior] = await Promise.all([fetchBytes(url), priorUrl ? fetchBytes(priorUrl) : null]);
      if (id !== this.tableId) return;
      const m = msg.judgeRow(index, dataSession().judgeCheckpoint(source, checkpoint, prior ?? undefined, count, BigInt(seed)));
      this.post(m, [m.examples.buffer, m.exampleClasses.buffer]);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    this.post(msg.judgeProgress(rows.length, rows.length));
  }
}
