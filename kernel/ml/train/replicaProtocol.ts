/**
 * Messages between the training loop and its data-parallel replicas (kernel/ml/train/parallel.ts and
 * trainWorker.ts). Weights and gradients travel through shared memory; messages carry the batch shares
 * and the losses.
 */
import type { BackendName } from '../../protocol';
import type { PIALNetOptions } from '../model/config';

/** Where one parameter lives in the flat shared buffers. */
export interface ParamSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** A tensor as plain data (its buffer is transferred). */
export interface PlainTensor {
  data: Float32Array;
  shape: number[];
}

/** Test-only faults, so that a crashed or failing replica can be checked. */
export interface ReplicaFault {
  /** The replica of this index exits (as a crash would) when it receives this step (1-based). */
  exitAtStep?: number;
  /** The replica of this index throws in this step (1-based). */
  throwAtStep?: number;
  /** The replica of this index fails while starting. */
  failAtStart?: boolean;
  replica?: number;
}

export interface InitMessage {
  type: 'init';
  index: number;
  backend: BackendName;
  options: PIALNetOptions;
  slots: ParamSlot[];
  /** Pairs per forward/backward pass (Infinity: the whole share at once). */
  microBatch: number;
  /** Flat float32 weights, written by the training loop before each step. */
  weights: SharedArrayBuffer;
  /** This replica's flat float32 gradient, written by the replica. */
  grads: SharedArrayBuffer;
  fault?: ReplicaFault;
}

export interface StepMessage {
  type: 'step';
  step: number;
  interactive: PlainTensor;
  nonInteractive: PlainTensor;
  pose: PlainTensor;
  gtIn: PlainTensor;
  gtNon: PlainTensor;
}

export type ToReplica = InitMessage | StepMessage | { type: 'close' };

export type FromReplica =
  | { type: 'ready'; index: number }
  | {
      type: 'done';
      step: number;
      loss: number;
      lossIn: number;
      lossNon: number;
      /** Indices (into the slots) of the parameters that got a gradient. */
      withGrad: number[];
    }
  | { type: 'error'; step?: number; message: string; stack?: string };
