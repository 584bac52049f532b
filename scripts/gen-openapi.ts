/**
 * @module Generates `src/apiserver/openapi/schemas.json`: the OpenAPI v3 component schemas of
 * every type reachable from the kinds we serve, read from the `kubernetes-types` declarations
 * (with their JSDoc descriptions) through the TypeScript compiler API and named as upstream
 * names them (`io.k8s.api.core.v1.PodSpec`, …). Top-level kinds carry
 * `x-kubernetes-group-version-kind`; fields with a strategic-merge-patch strategy carry
 * `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key` from `patch/strategies.ts`.
 *
 * Run with `npm run gen:openapi` after changing the kinds table or upgrading kubernetes-types.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { allKinds } from "../src/api/kinds.ts";
import { patchSchemaFor, type PatchSchema } from "../src/apiserver/patch/strategies.ts";

/** An OpenAPI v3 schema object, as plain JSON. */
type Schema = Record<string, unknown>;

const REF_PREFIX = "#/components/schemas/";
const require = createRequire(import.meta.url);
const TYPES_ROOT = path.dirname(require.resolve("kubernetes-types/package.json"));
const OUT = fileURLToPath(new URL("../src/apiserver/openapi/schemas.json", import.meta.url));

/** Upstream's schema-name prefix for a kubernetes-types module (`core/v1`, `meta/v1`, …). */
function prefixOf(module: string): string {
  switch (module) {
    case "meta/v1":
      return "io.k8s.apimachinery.pkg.apis.meta.v1";
    case "runtime":
      return "io.k8s.apimachinery.pkg.runtime";
    case "api/resource":
      return "io.k8s.apimachinery.pkg.api.resource";
    case "version":
      return "io.k8s.apimachinery.pkg.version";
    case "apiextensions/v1":
      return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";
    default:
      return `io.k8s.api.${module.replace("/", ".")}`;
  }
}

const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

/** The kubernetes-types module holding an API group's types (`apps` → `apps/v1`). */
function moduleOf(group: string, version: string): string {
  const short = group === "" ? "core" : (group.split(".")[0] ?? group);
  return `${short}/${version}`;
}

/** One parsed declaration file: its declarations by name and where its imports come from. */
interface ParsedModule {
  readonly decls: Map<string, ts.InterfaceDeclaration | ts.TypeAliasDeclaration>;
  readonly imports: Map<string, string>;
  readonly source: ts.SourceFile;
}

const modules = new Map<string, ParsedModule>();

function loadModule(module: string): ParsedModule {
  const cached = modules.get(module);
  if (cached) return cached;
  const file = path.join(TYPES_ROOT, `${module}.d.ts`);
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const parsed: ParsedModule = { decls: new Map(), imports: new Map(), source };
  for (const stmt of source.statements) {
    if (ts.isInterfaceDeclaration(stmt) || ts.isTypeAliasDeclaration(stmt)) {
      parsed.decls.set(stmt.name.text, stmt);
    } else if (ts.isImportDeclaration(stmt) && ts.isStringLiteral(stmt.moduleSpecifier)) {
      const from = path.posix.join(path.posix.dirname(module), stmt.moduleSpecifier.text);
      const named = stmt.importClause?.namedBindings;
      if (named && ts.isNamedImports(named)) {
        for (const el of named.elements) parsed.imports.set(el.name.text, from);
      }
    }
  }
  modules.set(module, parsed);
  return parsed;
}

/** The text of a node's leading `/** … *\/` comment, with the comment markers removed. */
function describe(node: ts.Node, source: ts.SourceFile): string | undefined {
  const ranges = ts.getLeadingCommentRanges(source.text, node.getFullStart()) ?? [];
  const last = ranges.filter((r) => source.text.startsWith("/**", r.pos)).pop();
  if (!last) return undefined;
  const body = source.text.slice(last.pos + 3, last.end - 2);
  const lines = body.split("\n").map((l) => l.replace(/^\s*\* ?/, "").replace(/\s+$/, ""));
  const text = lines.join("\n").trim();
  return text === "" ? undefined : text;
}

const schemas = new Map<string, Schema>();

/** A reference to a named schema, generating it (and what it reaches) on first use. */
function refTo(module: string, name: string): Schema {
  const full = `${prefixOf(module)}.${name}`;
  if (!schemas.has(full)) {
    schemas.set(full, {}); // placeholder: breaks cycles (JSONSchemaProps, …)
    schemas.set(full, namedSchema(module, name));
  }
  return { $ref: REF_PREFIX + full };
}

function namedSchema(module: string, name: string): Schema {
  const parsed = loadModule(module);
  const decl = parsed.decls.get(name);
  if (!decl) throw new Error(`kubernetes-types has no ${name} in ${module}`);
  const description = describe(decl, parsed.source);
  const base: Schema = description === undefined ? {} : { description };
  if (ts.isTypeAliasDeclaration(decl)) return { ...base, ...aliasSchema(module, name, decl) };
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const member of decl.members) {
    if (!ts.isPropertySignature(member) || !member.type) continue;
    const key =
      ts.isIdentifier(member.name) || ts.isStringLiteral(member.name) ? member.name.text : undefined;
    if (key === undefined) continue;
    const fieldDescription = describe(member, parsed.source);
    properties[key] = withDescription(typeSchema(module, member.type), fieldDescription);
    if (!member.questionToken) required.push(key);
  }
  const out: Schema = { ...base, type: "object" };
  if (Object.keys(properties).length > 0) out.properties = properties;
  if (required.length > 0) out.required = required;
  return out;
}

/** The scalar wrappers: Time and MicroTime are date-time strings, Quantity string-or-number. */
function aliasSchema(module: string, name: string, decl: ts.TypeAliasDeclaration): Schema {
  if (module === "meta/v1" && (name === "Time" || name === "MicroTime")) {
    return { type: "string", format: "date-time" };
  }
  if (module === "api/resource" && name === "Quantity") {
    return { oneOf: [{ type: "string" }, { type: "number" }] };
  }
  return typeSchema(module, decl.type);
}

/** A field's schema plus its description; `$ref`s are wrapped in `allOf` as upstream does. */
function withDescription(schema: Schema, description: string | undefined): Schema {
  if (description === undefined) return schema;
  if (typeof schema.$ref === "string") return { allOf: [schema], description };
  return { ...schema, description };
}

function typeSchema(module: string, node: ts.TypeNode): Schema {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: "string" };
    case ts.SyntaxKind.NumberKeyword:
      return { type: "integer" };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: "boolean" };
  }
  if (ts.isLiteralTypeNode(node)) {
    if (ts.isStringLiteral(node.literal)) return { type: "string" };
    if (ts.isNumericLiteral(node.literal)) return { type: "integer" };
    return { type: "boolean" };
  }
  if (ts.isArrayTypeNode(node)) return { type: "array", items: typeSchema(module, node.elementType) };
  if (ts.isUnionTypeNode(node)) return unionSchema(module, node);
  if (ts.isTypeLiteralNode(node)) {
    const index = node.members.find(ts.isIndexSignatureDeclaration);
    if (index) return { type: "object", additionalProperties: typeSchema(module, index.type) };
    return { type: "object" };
  }
  if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName)) {
    const name = node.typeName.text;
    const arg = node.typeArguments?.[0];
    if (name === "Array" && arg) return { type: "array", items: typeSchema(module, arg) };
    if (name === "Record" && node.typeArguments?.[1]) {
      return { type: "object", additionalProperties: typeSchema(module, node.typeArguments[1]) };
    }
    const owner = loadModule(module).decls.has(name) ? module : loadModule(module).imports.get(name);
    if (owner === undefined) throw new Error(`cannot resolve type ${name} in ${module}`);
    return refTo(owner, name);
  }
  throw new Error(`unsupported type syntax in ${module}: ${ts.SyntaxKind[node.kind]}`);
}

/** `number | string` is upstream's IntOrString; other unions become `oneOf`. */
function unionSchema(module: string, node: ts.UnionTypeNode): Schema {
  const kinds = new Set(node.types.map((t) => t.kind));
  if (kinds.size === 2 && kinds.has(ts.SyntaxKind.NumberKeyword) && kinds.has(ts.SyntaxKind.StringKeyword)) {
    if (!schemas.has(INT_OR_STRING)) {
      schemas.set(INT_OR_STRING, {
        description:
          "IntOrString holds either an integer or a string. In JSON and YAML it is written as a bare number or a string.",
        format: "int-or-string",
        oneOf: [{ type: "integer" }, { type: "string" }],
        "x-kubernetes-int-or-string": true,
      });
    }
    return { $ref: REF_PREFIX + INT_OR_STRING };
  }
  if (node.types.every((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)))
    return { type: "string" };
  return { oneOf: node.types.map((t) => typeSchema(module, t)) };
}

/** The name a `$ref` (possibly inside `allOf`, or on array items) points at. */
function referencedName(schema: Schema | undefined): string | undefined {
  if (!schema) return undefined;
  if (typeof schema.$ref === "string") return schema.$ref.slice(REF_PREFIX.length);
  if (Array.isArray(schema.allOf)) return referencedName(schema.allOf[0] as Schema | undefined);
  if (schema.type === "array") return referencedName(schema.items as Schema | undefined);
  return undefined;
}

/** Copies the strategic-merge-patch metadata onto the properties of `typeName` and below. */
function annotatePatch(typeName: string, patch: PatchSchema, seen: Set<string>): void {
  const key = `${typeName}|${JSON.stringify(patch)}`;
  if (seen.has(key)) return;
  seen.add(key);
  const props = schemas.get(typeName)?.properties as Record<string, Schema> | undefined;
  if (!props) return;
  for (const [field, meta] of Object.entries(patch.fields)) {
    const prop = props[field];
    if (!prop) throw new Error(`patch strategy names ${typeName}.${field}, which the schema lacks`);
    const strategies = [
      ...(meta.strategy ? [meta.strategy] : []),
      ...(meta.retainKeys ? ["retainKeys"] : []),
    ];
    if (strategies.length > 0) prop["x-kubernetes-patch-strategy"] = strategies.join(",");
    if (meta.mergeKey !== undefined) prop["x-kubernetes-patch-merge-key"] = meta.mergeKey;
    const below = referencedName(prop);
    if (meta.schema && below) annotatePatch(below, meta.schema, seen);
  }
}

/** A field upstream added after the kubernetes-types release we build from. */
interface AddedField {
  readonly module: string;
  readonly type: string;
  readonly field: string;
  readonly schema: () => Schema;
  readonly description: string;
}

/**
 * Fields of Kubernetes 1.31–1.33 (the version we serve) missing from kubernetes-types 1.30,
 * which clients send and our controllers write; without them `fieldValidation=Strict` would
 * reject valid objects. Descriptions are ours.
 */
const ADDED_FIELDS: readonly AddedField[] = [
  {
    module: "core/v1",
    type: "PodSpec",
    field: "resources",
    schema: () => refTo("core/v1", "ResourceRequirements"),
    description:
      "Pod-level resources: the total requests and limits of all containers together. Only cpu, memory " +
      "and hugepages may be given, and the pod's containers are bounded by these limits.",
  },
  {
    module: "core/v1",
    type: "Lifecycle",
    field: "stopSignal",
    schema: () => ({ type: "string" }),
    description:
      "The signal sent to the container to stop it; when unset, the image's STOPSIGNAL, else the " +
      "runtime's default (SIGTERM on Linux). Requires spec.os.name to be set.",
  },
  {
    module: "core/v1",
    type: "PodCondition",
    field: "observedGeneration",
    schema: () => ({ type: "integer", format: "int64" }),
    description: "The metadata.generation of the pod that this condition was last set from.",
  },
  {
    module: "core/v1",
    type: "PodStatus",
    field: "observedGeneration",
    schema: () => ({ type: "integer", format: "int64" }),
    description: "The metadata.generation of the pod that the kubelet last acted on to produce this status.",
  },
  {
    module: "core/v1",
    type: "PodSecurityContext",
    field: "supplementalGroupsPolicy",
    schema: () => ({ type: "string" }),
    description:
      'How supplemental groups of the first container process are computed: "Merge" (the default) adds ' +
      'the groups of the container\'s primary user from the image; "Strict" uses only fsGroup, ' +
      "supplementalGroups and runAsGroup.",
  },
  {
    module: "core/v1",
    type: "PodSecurityContext",
    field: "seLinuxChangePolicy",
    schema: () => ({ type: "string" }),
    description:
      'How the SELinux label of the pod\'s volumes is applied: "MountOption" mounts with the right ' +
      'context, "Recursive" relabels every file. Unset behaves as the cluster default.',
  },
  {
    module: "apps/v1",
    type: "DeploymentStatus",
    field: "terminatingReplicas",
    schema: () => ({ type: "integer", format: "int32" }),
    description: "The number of pods of this deployment that are terminating (have a deletionTimestamp).",
  },
  {
    module: "apps/v1",
    type: "ReplicaSetStatus",
    field: "terminatingReplicas",
    schema: () => ({ type: "integer", format: "int32" }),
    description: "The number of pods of this replica set that are terminating (have a deletionTimestamp).",
  },
];

function addNewerFields(): void {
  for (const f of ADDED_FIELDS) {
    const name = referencedName(refTo(f.module, f.type));
    const props = name === undefined ? undefined : (schemas.get(name)?.properties as Record<string, Schema>);
    if (!props || props[f.field]) continue; // already declared by a newer kubernetes-types
    props[f.field] = withDescription(f.schema(), f.description);
    const sorted = Object.entries(props).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const key of Object.keys(props)) delete props[key];
    Object.assign(props, Object.fromEntries(sorted));
  }
}

function gvkExtension(group: string, version: string, kind: string): Schema[] {
  return [{ group, kind, version }];
}

function main(): void {
  const seen = new Set<string>();
  const meta = (name: string): string => referencedName(refTo("meta/v1", name)) ?? name;
  const gvks = new Map<string, Schema[]>();
  const addKind = (group: string, version: string, kind: string): string | undefined => {
    const module = moduleOf(group, version);
    let parsed: ParsedModule;
    try {
      parsed = loadModule(module);
    } catch {
      return undefined;
    }
    if (!parsed.decls.has(kind)) return undefined;
    const name = referencedName(refTo(module, kind));
    if (name === undefined) return undefined;
    const list = gvks.get(name) ?? [];
    if (!list.some((g) => g.group === group && g.version === version && g.kind === kind)) {
      list.push(...gvkExtension(group, version, kind));
    }
    gvks.set(name, list);
    return name;
  };
  for (const k of allKinds()) {
    const name = addKind(k.group, k.version, k.kind);
    if (name === undefined) throw new Error(`kubernetes-types has no schema for ${k.apiVersion} ${k.kind}`);
    addKind(k.group, k.version, k.listKind);
    for (const s of k.subresources) addKind(s.group ?? k.group, s.version ?? k.version, s.kind);
    const patch = patchSchemaFor(k.group, k.version, k.kind);
    if (patch) annotatePatch(name, patch, seen);
  }
  addNewerFields();
  // Shared meta/v1 types every group-version document refers to; as upstream, DeleteOptions
  // and WatchEvent are registered in every group-version, Status in the core one.
  for (const name of ["Status", "DeleteOptions", "WatchEvent", "Patch", "APIResourceList"]) meta(name);
  gvks.set(meta("Status"), gvkExtension("", "v1", "Status"));
  for (const shared of ["DeleteOptions", "WatchEvent"]) {
    const versions = new Map(allKinds().map((k) => [k.apiVersion, k]));
    gvks.set(
      meta(shared),
      [...versions.values()].flatMap((k) => gvkExtension(k.group, k.version, shared)),
    );
  }
  for (const [name, list] of gvks) {
    const schema = schemas.get(name);
    if (schema) schema["x-kubernetes-group-version-kind"] = list;
  }
  const sorted = Object.fromEntries([...schemas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  writeFileSync(OUT, JSON.stringify(sorted) + "\n");
  console.log(`wrote ${schemas.size} schemas to ${path.relative(process.cwd(), OUT)}`);
}

main();
