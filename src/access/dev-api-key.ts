/**
 * Where a node keeps the development API key of its access API (`<dataDir>/access/dev-secret`), in a
 * module of its own so the operator commands can find it without loading the access API's gRPC code.
 */

/** Directory (inside `dataDir`) of the development API key. */
export const DEV_API_KEY_DIR = 'access';
