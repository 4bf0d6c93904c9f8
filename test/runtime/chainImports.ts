/** What the chain test imports from the runtime, in one place. */
export { tf, initRuntime, runtime, runtimeInfo, parseBackendChoice, backendFromEnv, describeRuntime } from '../../kernel/runtime/index';
export { MIME_BUNDLE as MIME_BUNDLE_KEY } from '../../kernel/display';
