/**
 * The building blocks of the configuration schema (schema.ts): one constructor per kind of setting,
 * each returning a TypeBox (JSON Schema) node that carries the setting's default, its range or pattern,
 * and, under the SETTING key, how Ferry parses it (`LeafKind`) and where else it may come from (env
 * variable, CLI flag, --help text). Everything else is derived from that one tree by walking it: the
 * `FerryConfig` type (`Static`), `defaultConfig()`, the leaf table the loader validates against and the
 * env/flag table the CLI builds its options from.
 */
import type {
  IntegerOptions,
  SchemaOptions,
  Static,
  StringOptions,
  TArray,
  TBoolean,
  TInteger,
  TLiteral,
  TNull,
  TObject,
  TProperties,
  TRecord,
  TSchema,
  TString,
  TUnion,
  TUnsafe,
} from '@sinclair/typebox';

/**
 * TypeBox's kind marker: a registered symbol, so TypeBox (the tests' `Value.Errors`, any tool) reads
 * the nodes below as its own.
 */
const KIND = Symbol.for('TypeBox.Kind');

function typeBoxNode<T>(kind: string, schema: object): T {
  return Object.assign(schema, { [KIND]: kind }) as T;
}

/**
 * The TypeBox builders the schema uses, building exactly the nodes TypeBox 0.34 builds (a unit test
 * compares them). TypeBox itself is not loaded at run time: its CommonJS build is some 200 modules
 * and ~8 MiB of heap a node would keep for its whole life to build one tree at start-up, and its ESM
 * build opens so many files at once that a node under a low `ulimit -n` failed with EMFILE.
 */
export const Type = {
  String: (options: StringOptions = {}): TString => typeBoxNode('String', { ...options, type: 'string' }),
  Literal: <V extends string>(value: V): TLiteral<V> =>
    typeBoxNode('Literal', { const: value, type: 'string' }),
  /** Two or more members (TypeBox returns a lone member itself). */
  Union: <T extends TSchema[]>(anyOf: [...T], options: SchemaOptions = {}): TUnion<T> =>
    typeBoxNode('Union', { ...options, anyOf }),
  Boolean: (): TBoolean => typeBoxNode('Boolean', { type: 'boolean' }),
  Integer: (options: IntegerOptions = {}): TInteger =>
    typeBoxNode('Integer', { ...options, type: 'integer' }),
  Array: <T extends TSchema>(items: T): TArray<T> => typeBoxNode('Array', { type: 'array', items }),
  /** A record keyed by any string (TypeBox's `Record(String(), value)`). */
  Record: <T extends TSchema>(_key: TString, value: T): TRecord<TString, T> =>
    typeBoxNode('Record', { type: 'object', patternProperties: { '^(.*)$': value } }),
  /** Every property required (the schema has no optional ones). */
  Object: <P extends TProperties>(properties: P): TObject<P> =>
    typeBoxNode('Object', {
      type: 'object',
      ...(Object.keys(properties).length > 0 ? { required: Object.keys(properties) } : {}),
      properties,
    }),
  Null: (): TNull => typeBoxNode('Null', { type: 'null' }),
  /** `schema` typed as T (TypeBox's `Unsafe(schema)`: the node keeps its own kind). */
  Unsafe: <T>(schema: TSchema): TUnsafe<T> => schema as unknown as TUnsafe<T>,
};

/** How a leaf's value is parsed and range-checked (values.ts, `parseLeaf`). */
export type LeafKind =
  | { type: 'string'; nonEmpty?: boolean; pattern?: RegExp; expected?: string }
  | { type: 'path' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'bool' }
  | { type: 'port' }
  | { type: 'int'; min: number; max: number }
  | { type: 'duration'; min: number; max: number }
  | { type: 'size'; min: number; max: number }
  | { type: 'origins' }
  | { type: 'hosts' }
  | { type: 'idList' }
  | { type: 'map'; entry: 'secret' | 'key' | 'apiKey' | 'route' | 'upstreamKind' | 'topicRule' };

/** Where a leaf may also be set from, and how --help shows it. */
export interface SettingMeta {
  /** Long flag without dashes (`ws-port`); for `negate` toggles the flag is `--no-<flag>`. */
  flag?: string;
  env?: string;
  /** `--no-ws` style: the flag turns a boolean off. */
  negate?: boolean;
  /** Placeholder in --help (`<port>`). */
  arg?: string;
  help?: string;
  /** For map leaves: the entry env and flag write (FERRY_AUTH_SECRET -> auth.hmacSecrets[""]). */
  mapKey?: string;
  /** Values are never echoed in messages or printed configs. */
  secret?: boolean;
}

/** The key under which a schema node holds its LeafSpec. */
export const SETTING = Symbol('ferry.setting');
/** Marks an object group that may also be `null` ("off"). */
const NULLABLE = Symbol('ferry.nullable');

/** One configuration leaf: how it parses, plus its env/flag/help. */
export interface LeafSpec extends SettingMeta {
  kind: LeafKind;
}

/** A setting reachable from the environment and/or the command line, with its leaf path. */
export interface SettingSpec extends SettingMeta {
  /** Leaf path in FerryConfig (`ws.port`). */
  path: string;
}

type Node = TSchema & { [SETTING]?: LeafSpec; [NULLABLE]?: true };

function leaf<T extends TSchema>(schema: T, kind: LeafKind, def: Static<T>, meta: SettingMeta): T {
  return Object.assign(schema, { default: def, [SETTING]: { kind, ...meta } });
}

/** A string, optionally non-empty and matching `pattern` (`expected` names the rule in messages). */
export function str(
  def: string,
  rule: { nonEmpty?: boolean; pattern?: RegExp; expected?: string } = {},
  meta: SettingMeta = {},
) {
  const json = {
    ...(rule.pattern ? { pattern: rule.pattern.source } : {}),
    ...(rule.nonEmpty ? { minLength: 1 } : {}),
  };
  return leaf(Type.String(json), { type: 'string', ...rule }, def, meta);
}

/** A file or directory path; relative ones resolve against the config file's directory or the cwd. */
export function path(def: string, meta: SettingMeta = {}) {
  return leaf(Type.String(), { type: 'path' }, def, meta);
}

/** One of `values`. */
export function oneOf<const V extends readonly string[]>(values: V, def: V[number], meta: SettingMeta = {}) {
  // A union of literals (JSON Schema `anyOf` of `const`s), typed as the union of `values`.
  const schema = Type.Unsafe<V[number]>(Type.Union(values.map((v) => Type.Literal(v))));
  return leaf(schema, { type: 'enum', values }, def, meta);
}

/** true/false (env and flags also take 1/0, yes/no, on/off). */
export function bool(def: boolean, meta: SettingMeta = {}) {
  return leaf(Type.Boolean(), { type: 'bool' }, def, meta);
}

/** A TCP/UDP port, 0 = any free port. */
export function port(def: number, meta: SettingMeta = {}) {
  return leaf(Type.Integer({ minimum: 0, maximum: 65535 }), { type: 'port' }, def, meta);
}

/** An integer in [min, max]. */
export function int(def: number, min: number, max: number, meta: SettingMeta = {}) {
  return leaf(Type.Integer({ minimum: min, maximum: max }), { type: 'int', min, max }, def, meta);
}

/** Milliseconds in [min, max]; files, env and flags may write `500ms`, `10s`, `5m`, `1h`, `1d`. */
export function duration(def: number, min: number, max: number, meta: SettingMeta = {}) {
  return leaf(Type.Integer({ minimum: min, maximum: max }), { type: 'duration', min, max }, def, meta);
}

/** Bytes in [min, max]; files, env and flags may write `64KiB`, `1MiB`, `1GB`. */
export function size(def: number, min: number, max: number, meta: SettingMeta = {}) {
  return leaf(Type.Integer({ minimum: min, maximum: max }), { type: 'size', min, max }, def, meta);
}

/** A list (a JSON array, or a comma list from env and flags) of origins, host names or user ids. */
export function list(kind: 'origins' | 'hosts' | 'idList', def: string[], meta: SettingMeta = {}) {
  return leaf(Type.Array(Type.String()), { type: kind }, def, meta);
}

/** A map by key whose entries are strings of one kind; set entry by entry (file, env, flag). */
export function stringMap(
  entry: 'secret' | 'key' | 'apiKey' | 'route' | 'upstreamKind',
  def: Record<string, string>,
  meta: SettingMeta = {},
) {
  return leaf(Type.Record(Type.String(), Type.String()), { type: 'map', entry }, def, meta);
}

/** A map by key of objects `value` describes, validated entry by entry by the `entry` parser. */
export function objectMap<T extends TSchema>(
  entry: 'topicRule',
  value: T,
  def: Record<string, Static<T>>,
  meta: SettingMeta = {},
) {
  return leaf(Type.Record(Type.String(), value), { type: 'map', entry }, def, meta);
}

/** A group of settings that may be `null` in the file, meaning "off" (the default). */
export function nullableGroup<P extends TProperties>(properties: P): TUnion<[TObject<P>, TNull]> {
  const node = Type.Union([Type.Object(properties), Type.Null()], { default: null });
  (node as Node)[NULLABLE] = true;
  return node;
}

/** The leaf table, the nullable groups and the env/flag settings of a schema, in schema order. */
export interface SchemaTables {
  leaves: Record<string, LeafSpec>;
  nullableGroups: ReadonlySet<string>;
  settings: readonly SettingSpec[];
}

/** Walks `schema` once and returns its tables. */
export function tablesOf(schema: TObject): SchemaTables {
  const leaves: Record<string, LeafSpec> = {};
  const nullableGroups = new Set<string>();
  const settings: SettingSpec[] = [];
  const walk = (node: Node, prefix: string): void => {
    const spec = node[SETTING];
    if (spec !== undefined) {
      leaves[prefix] = spec;
      if (spec.env !== undefined || spec.flag !== undefined) settings.push({ path: prefix, ...spec });
    } else if (node[NULLABLE]) {
      nullableGroups.add(prefix);
      walk((node as unknown as { anyOf: Node[] }).anyOf[0] as Node, prefix);
    } else {
      for (const [key, child] of Object.entries((node as TObject).properties))
        walk(child as Node, prefix ? `${prefix}.${key}` : key);
    }
  };
  walk(schema as Node, '');
  return { leaves, nullableGroups, settings };
}

/** A fresh value of `schema` holding every default (nullable groups are null). */
export function defaultsOf<T extends TObject>(schema: T): Static<T> {
  const build = (node: Node): unknown => {
    if (node[SETTING] !== undefined) return structuredClone(node.default as unknown);
    if (node[NULLABLE]) return null;
    return Object.fromEntries(
      Object.entries((node as TObject).properties).map(([k, child]) => [k, build(child as Node)]),
    );
  };
  return build(schema as Node) as Static<T>;
}
