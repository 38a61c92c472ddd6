// TEMPORARY: the settings schema in the shape Rust's settingsSchema() returns, for the wasm
// build that does not export it yet. Deleted once redesign-rust is merged.

const int = (name, param, label, min, max, extra = {}) => ({ name, param, label, kind: 'int', min, max, step: 1, ...extra });
const float = (name, param, label, min, max, extra = {}) => ({ name, param, label, kind: 'float', min, max, step: null, ...extra });
const options = (pairs) => Object.entries(pairs).map(([value, label]) => ({ value, label }));
const VQ = ['vqvae'];

export const LEGACY_SCHEMA = {
  fields: [
    { name: 'kind', param: 'model', label: 'Model', kind: 'enum', options: options({ ae: 'Autoencoder', vae: 'VAE', vqvae: 'VQ-VAE' }), default: 'vae' },
    int('latentDim', 'd', 'Latent dim', 2, 32, { title: 'd: size of the code z', kinds: ['ae', 'vae'], default: 2 }),
    float('beta', 'beta', 'β', 0, 100, { title: 'Weight of the KL term; 1 is the plain VAE', kinds: ['vae'], default: 1 }),
    int('codebookSize', 'K', 'K', 2, 1024, { title: 'Number of codebook vectors', kinds: VQ, default: 16 }),
    int('codeDim', 'D', 'D', 1, 64, { title: 'Dimension of each codebook vector', kinds: VQ, default: 2 }),
    int('codesPerImage', 'l', 'l', 1, 64, {
      title: "l: codes per image. The encoder's output is split into l vectors of D numbers, each quantized on its own",
      kinds: VQ,
      default: 1,
    }),
    { name: 'codebookUpdate', param: 'update', label: 'Codebook update', kind: 'enum', kinds: VQ, default: 'ema',
      options: options({ loss: 'codebook loss', ema: 'EMA', emaRestart: 'EMA + restart' }) },
    float('commitment', 'commitment', 'Commitment', 0, 10, { title: 'Weight β of the commitment loss ‖z_e − sg[e]‖²', kinds: VQ, advanced: true, default: 0.25 }),
    { name: 'arch', param: 'arch', label: 'Architecture', kind: 'enum', advanced: true, default: 'mlp',
      title: 'Encoder and decoder: fully connected layers, or convolutions', options: options({ mlp: 'MLP', conv: 'Convolutional' }) },
    int('hidden', 'hidden', 'Hidden', 8, 2048, { title: 'Width of the hidden layer of encoder and decoder', advanced: true, default: 512 }),
    int('batchSize', 'batch', 'Batch size', 1, 4096, { group: 'train', title: 'Images per optimizer step', advanced: true, default: 128 }),
    int('seed', 'seed', 'Seed', 0, Number.MAX_SAFE_INTEGER, {
      group: 'train',
      title: 'Seeds the initial weights, the batch order and ε: the same seed repeats a run',
      advanced: true,
      default: 0,
    }),
    float('learningRate', 'lr', 'Learning rate', 0, 10, { group: 'train', default: 0.001 }),
  ].map((f) => ({ group: 'model', title: null, options: null, kinds: null, advanced: false, ...f })),
  rules: [{ kinds: ['vqvae'], product: ['codesPerImage', 'codeDim'], max: 256, message: 'l · D must be at most 256' }],
};
