// The student's own dataset: four IDX files, raw or gzipped, sorted into training images,
// training labels, test images and test labels from their headers (the magic number says
// images or labels) and their names or sizes (which is training). Only the headers are read
// here; the worker's Rust reader checks everything else and names what is wrong.

const MAGIC = { 2051: 'images', 2049: 'labels' };
const GZIP = [0x1f, 0x8b];

/**
 * @param {File[]} files what the student picked or dropped
 * @returns {Promise<Uint8Array[]>} the bytes of [train images, train labels, test images, test labels]
 * @throws {Error} with a message for people when the files are not the four IDX files
 */
export async function sortIdxFiles(files) {
  if (files.length !== 4) {
    throw new Error(
      `Choose all four IDX files at once (training images, training labels, test images, test labels); ` +
        `you chose ${files.length} file${files.length === 1 ? '' : 's'}.`,
    );
  }
  const headers = await Promise.all(files.map(readHeader));
  const strangers = headers.filter((h) => !MAGIC[h.magic]);
  if (strangers.length > 0) {
    throw new Error(
      strangers.map((h) => `${h.file.name} is not an IDX image or label file (${h.why}).`).join(' ') +
        ' IDX images start with the magic number 2051 (0x00000803), labels with 2049 (0x00000801).',
    );
  }
  const images = headers.filter((h) => MAGIC[h.magic] === 'images');
  const labels = headers.filter((h) => MAGIC[h.magic] === 'labels');
  if (images.length !== 2) {
    throw new Error(`Two of the files must be image files and two label files; these are ${images.length} image and ${labels.length} label files.`);
  }
  const [trainImages, testImages] = trainFirst(images, 'image');
  const [trainLabels, testLabels] = trainFirst(labels, 'label');
  return Promise.all([trainImages, trainLabels, testImages, testLabels].map(async (h) => new Uint8Array(await h.file.arrayBuffer())));
}

/** The pair ordered training first: by name (train / t10k or test), else the larger set. */
function trainFirst(pair, what) {
  const [a, b] = pair;
  const roles = pair.map((h) => roleByName(h.file.name));
  if (roles[0] && roles[1] && roles[0] !== roles[1]) return roles[0] === 'train' ? [a, b] : [b, a];
  if (a.count !== b.count) return a.count > b.count ? [a, b] : [b, a];
  throw new Error(
    `Both ${what} files (${a.file.name}, ${b.file.name}) hold ${a.count} items, so neither their names nor their sizes ` +
      `tell which is for training: put "train" in one name and "test" or "t10k" in the other.`,
  );
}

function roleByName(name) {
  const lower = name.toLowerCase();
  const train = lower.includes('train');
  const test = lower.includes('t10k') || lower.includes('test');
  if (train === test) return null;
  return train ? 'train' : 'test';
}

/** `{file, magic, count}` from the first 8 bytes after inflating, or `{file, magic: null, why}`. */
async function readHeader(file) {
  const start = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  let head;
  if (start[0] === GZIP[0] && start[1] === GZIP[1]) {
    try {
      head = await inflatedStart(file, 8);
    } catch (err) {
      return { file, magic: null, why: `it looks gzipped but does not inflate: ${err.message}` };
    }
  } else {
    head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  }
  if (head.length < 8) return { file, magic: null, why: `only ${head.length} bytes` };
  const view = new DataView(head.buffer, head.byteOffset, 8);
  const magic = view.getUint32(0);
  if (!MAGIC[magic]) {
    const bytes = Array.from(head.subarray(0, 4), (v) => `0x${v.toString(16).padStart(2, '0')}`).join(' ');
    return { file, magic: null, why: `it starts with ${bytes}` };
  }
  return { file, magic, count: view.getUint32(4) };
}

/** The first `n` bytes of a gzipped file, inflating no more than that. */
async function inflatedStart(file, n) {
  const reader = file.stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks = [];
  let length = 0;
  while (length < n) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  reader.cancel().catch(() => {});
  const out = new Uint8Array(Math.min(n, length));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, out.length - at);
    out.set(part, at);
    at += part.length;
    if (at === out.length) break;
  }
  return out;
}
