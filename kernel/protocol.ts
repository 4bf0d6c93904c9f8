/**
 * The kernel's wire protocol and every output MIME payload, defined once.
 *
 * Wire format: JSON-RPC 2.0 (vscode-jsonrpc) over the Node IPC channel between the host (the VS Code
 * extension or the CLI) and the kernel child process. The child's stdout/stderr pipes carry only raw
 * bytes written by native code (they are shown in the running cell); everything a cell prints through
 * `console` / `process.stdout` travels as `stream` notifications so that it stays in order with rich
 * outputs. An extra pipe on fd 3 carries interrupt bytes so that a busy synchronous loop can be stopped
 * while the kernel's event loop is blocked. The kernel opens no network port.
 *
 * This file is shared by the kernel (Node), the host (Node + vscode) and the renderers (DOM); it holds
 * types and plain constants only and imports nothing.
 */

// ---------------------------------------------------------------------------------------------------
// Wire protocol
// ---------------------------------------------------------------------------------------------------

/** Backends of the tensor runtime, in the order `auto` tries them. */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;

export interface InitializeParams {
  /** Folder of the notebook: module resolution and relative paths start here. */
  notebookDir: string;
  /** Backend requested by setting or env; `auto` walks the chain. */
  backend: BackendChoice;
  /** Extra folder searched for optional native packages (tfjs-node, tfjs-node-gpu, webgpu). */
  nativeModulesPath?: string;
  /** Outputs longer than this many characters per cell are truncated with a notice. */
  maxOutputChars: number;
}

export interface RuntimeInfo {
  backend: string;
  /** Human-readable device, e.g. "NVIDIA H100 80GB HBM3" or "CPU (wasm, SIMD, 1 thread)". */
  device: string;
  threads: number;
  tfjsVersion: string;
  /** Why earlier backends of the chain were skipped, in order. */
  skipped: { backend: string; reason: string }[];
  /**
   * Live tensors and their bytes; on a GPU backend that knows them (webgpu), also the bytes of device
   * buffers held by tensors (`gpuBytes`) and allocated in all, pooled ones included (`gpuBytesAllocated`).
   */
  memory: { numTensors: number; numBytes: number; gpuBytes?: number; gpuBytesAllocated?: number };
  /** The WebGPU adapter (webgpu backend only); `software` is true for lavapipe/llvmpipe, SwiftShader and the like. */
  adapter?: { name: string; vendor: string; architecture: string; software: boolean };
}

export interface KernelInfo {
  pid: number;
  nodeVersion: string;
  runtime: RuntimeInfo;
  /** Milliseconds from process start to ready. */
  readyMs: number;
}

export type CellLanguage = 'typescript' | 'javascript';

export interface ExecuteParams {
  /** Stable id of the cell (its URI in VS Code, `cell-<index>` in the CLI). */
  cellId: string;
  /** Name shown in stack traces, e.g. "Cell 3". */
  cellLabel: string;
  code: string;
  language: CellLanguage;
}

export interface CellError {
  name: string;
  message: string;
  /** Stack with frames mapped to the cell's own lines and kernel frames removed. */
  stack: string;
}

export interface ExecuteResult {
  status: 'ok' | 'error' | 'interrupted';
  error?: CellError;
  durationMs: number;
}

export type StreamName = 'stdout' | 'stderr';

export interface StreamParams {
  cellId: string;
  name: StreamName;
  text: string;
}

/** A MIME bundle: MIME type -> data. JSON MIME types carry objects, the others strings (base64 for images). */
export type MimeBundle = Record<string, unknown>;

export interface DisplayParams {
  cellId: string;
  /** Id of the output; an update replaces the output with this id wherever it is. */
  displayId: string;
  bundle: MimeBundle;
  /** true: replace an existing output with this displayId instead of appending. */
  update: boolean;
  /** The value of the cell's last expression (Jupyter's `execute_result`, shown as `Out[n]`). */
  executeResult?: boolean;
}

export interface ClearDisplayParams {
  cellId: string;
  displayId: string;
}

export interface StatusParams {
  state: 'idle' | 'busy';
  memory?: { numTensors: number; numBytes: number };
}

/** Method names, shared by both ends. Requests answer; notifications do not. */
export const Methods = {
  initialize: 'kernel/initialize',
  execute: 'kernel/execute',
  interrupt: 'kernel/interrupt',
  runtimeInfo: 'kernel/runtimeInfo',
  /** How many timers and immediates cells left scheduled (work whose output may still come). */
  pending: 'kernel/pending',
  shutdown: 'kernel/shutdown',
  stream: 'cell/stream',
  display: 'cell/display',
  clearDisplay: 'cell/clearDisplay',
  status: 'kernel/status',
} as const;

/** Byte written on fd 3 to ask for an interrupt. */
export const INTERRUPT_BYTE = 0x03;

// ---------------------------------------------------------------------------------------------------
// Domain constants shared by kernel and renderers
// ---------------------------------------------------------------------------------------------------

/** The six contact channels, in the fixed channel order of every heatmap tensor. */
export const CONTACT_CHANNELS = ['Back', 'Hips', 'Hands', 'Feet', 'Mouth', 'Outside'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

/** COCO-17 keypoint names, in order. */
export const COCO17_NAMES = [
  'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
  'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
  'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
] as const;

/** COCO-17 skeleton edges (0-based), as docs/paper.md section 4.6 lists them. */
export const COCO17_SKELETON: readonly (readonly [number, number])[] = [
  [15, 13], [13, 11], [16, 14], [14, 12], [11, 12], [5, 11], [6, 12], [5, 6], [5, 7], [6, 8], [7, 9],
  [8, 10], [1, 2], [0, 1], [0, 2], [1, 3], [2, 4], [3, 5], [4, 6],
];

export type MetricName = 'KLD' | 'SIM' | 'NSS' | 'CC';
export type SplitName = 'Seen' | 'Unseen';

// ---------------------------------------------------------------------------------------------------
// Output MIME types and payloads (versioned). Each output also carries a fallback for viewers without
// the extension: image/png for pictures, text/markdown for tables, text/plain for training.
// ---------------------------------------------------------------------------------------------------

export const MIME = {
  heatmap: 'application/vnd.affordance-lab.heatmap.v1+json',
  keypoints: 'application/vnd.affordance-lab.keypoints.v1+json',
  metrics: 'application/vnd.affordance-lab.metrics.v1+json',
  training: 'application/vnd.affordance-lab.training.v1+json',
  dataset: 'application/vnd.affordance-lab.dataset.v1+json',
} as const;
export type AffordanceMime = (typeof MIME)[keyof typeof MIME];

/** An encoded image carried inside a payload. */
export interface ImageRef {
  mime: 'image/png' | 'image/jpeg';
  /** base64, no data: prefix. */
  data: string;
  width: number;
  height: number;
}

/**
 * One 2-D map, quantised to 8 bits: value = min + (byte / 255) * (max - min).
 * `data` is base64 of width*height bytes in row-major order.
 */
export interface QuantizedMap {
  name: string;
  width: number;
  height: number;
  encoding: 'u8';
  data: string;
  min: number;
  max: number;
}

export type ColormapName = 'turbo' | 'jet' | 'viridis';

export interface HeatmapPayload {
  version: 1;
  title?: string;
  /** Base image; maps are stretched over it. Without it the maps are drawn alone. */
  image?: ImageRef;
  /** Predicted (or the only) maps, usually one per contact channel. */
  maps: QuantizedMap[];
  /** Ground-truth maps with the same names as `maps`, for side-by-side and difference views. */
  gt?: QuantizedMap[];
  colormap?: ColormapName;
  /** Overlay opacity in [0, 1]. */
  opacity?: number;
  /**
   * Size of the original image, in whose pixel coordinates the renderer reports the position under the
   * cursor (`image` may be a downscaled copy). Default: the size of `image`, else of the first map.
   */
  imageSize?: { width: number; height: number };
}

export interface Keypoint {
  x: number;
  y: number;
  score: number;
}

export interface ContactPoints {
  channel: ContactChannel;
  points: [number, number][];
}

export interface KeypointsPayload {
  version: 1;
  title?: string;
  image?: ImageRef;
  /** Coordinate space of keypoints and contacts (the original image size). */
  width: number;
  height: number;
  /** COCO-17 order; may be empty for a non-interactive image. */
  keypoints: Keypoint[];
  names: string[];
  skeleton: [number, number][];
  contacts: ContactPoints[];
}

export type MetricValues = Partial<Record<MetricName, number>>;

export interface SplitResult {
  overall: MetricValues;
  /** class name -> values */
  perClass: Record<string, MetricValues>;
  /** body part (contact channel) -> values */
  perPart?: Record<string, MetricValues>;
  /** number of evaluated (pair x channel) entries */
  count?: number;
}

export interface MetricsRun {
  name: string;
  /** `reference` rows are published numbers (e.g. the paper), drawn as reference bars or lines. */
  kind: 'run' | 'reference';
  results: Partial<Record<SplitName, SplitResult>>;
}

export interface MetricsPayload {
  version: 1;
  title?: string;
  metrics: MetricName[];
  runs: MetricsRun[];
  /** NSS threshold used for the runs (reported with every table). */
  nssThreshold?: number;
  /**
   * Order of the classes ("as listed"), and of the body parts, as the runs give them. Saved notebooks
   * sort object keys, so `perClass` alone does not keep it.
   */
  classOrder?: string[];
  partOrder?: string[];
}

export interface TrainingPoint {
  step: number;
  loss: number;
  lossIn?: number;
  lossNon?: number;
  lr: number;
}

export interface TrainingEpoch {
  epoch: number;
  step: number;
  /** e.g. { KLD: 1.2, SIM: 0.4, NSS: 2.1, loss: 0.3 } on the validation subset */
  metrics: Record<string, number>;
}

export interface TrainingPayload {
  version: 1;
  runId: string;
  title?: string;
  state: 'running' | 'done' | 'interrupted' | 'error';
  model?: string;
  backend?: string;
  /** Training threads (data-parallel replicas on the CPU backends; 1 otherwise). */
  threads?: number;
  step: number;
  totalSteps: number;
  epoch: number;
  totalEpochs: number;
  history: TrainingPoint[];
  epochs: TrainingEpoch[];
  imagesPerSec?: number;
  etaSec?: number;
  elapsedSec?: number;
  message?: string;
}

export interface DatasetClassCount {
  name: string;
  interactive: number;
  nonInteractive: number;
  pairs?: number;
}

export interface DatasetThumbnail {
  className: string;
  kind: 'interactive' | 'non_interactive';
  label: string;
  image: ImageRef;
}

export interface DatasetIssue {
  file: string;
  line?: number;
  message: string;
}

export interface DatasetPayload {
  version: 1;
  title?: string;
  root: string;
  split: SplitName;
  subset: 'trainset' | 'testset';
  classes: DatasetClassCount[];
  /** Row labels of contactMatrix (contact channels). */
  parts: string[];
  /** contactMatrix[part][class]: number of images of that class with contacts of that part. */
  contactMatrix: number[][];
  thumbnails: DatasetThumbnail[];
  /** Thumbnails left out to keep the payload within `thumbnailBudget` (base64 characters). */
  thumbnailsOmitted?: number;
  thumbnailBudget?: number;
  /**
   * Code that shows the images of one class, with `{class}` where the class name goes (as a quoted
   * string), e.g. "ds.show({ class: {class} })"; named by the view for a class without thumbnails.
   */
  showClassCode?: string;
  errors: DatasetIssue[];
}

export interface MimePayloads {
  'application/vnd.affordance-lab.heatmap.v1+json': HeatmapPayload;
  'application/vnd.affordance-lab.keypoints.v1+json': KeypointsPayload;
  'application/vnd.affordance-lab.metrics.v1+json': MetricsPayload;
  'application/vnd.affordance-lab.training.v1+json': TrainingPayload;
  'application/vnd.affordance-lab.dataset.v1+json': DatasetPayload;
}
