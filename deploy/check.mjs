// check.mjs - validate Kubernetes objects offline, strictly.
//
//   kubectl kustomize deploy/kubernetes | node deploy/check.mjs
//
// Reads a YAML stream and checks every object:
//  - built-in kinds against the Kubernetes OpenAPI schemas that npm's
//    kubernetes-models carries (types, required fields, enums, formats),
//    and, since those schemas allow any extra field, strictly: every field
//    must be one the API defines (from the models' type declarations), so a
//    misspelt field fails here instead of being dropped by the API server;
//  - agent-sandbox's SandboxTemplate, SandboxWarmPool and SandboxClaim
//    (extensions.agents.x-k8s.io/v1beta1) against the part of their CRD
//    schemas written out below, with the template's pod spec checked as a
//    PodSpec like the rest.
// Prints one line per object; exits 1 on the first file with errors.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import yaml from "js-yaml";

const require = createRequire(import.meta.url);
const here = path.dirname(new URL(import.meta.url).pathname);
const modelsDir = path.dirname(require.resolve("kubernetes-models/package.json"));
const nodeModules = path.dirname(modelsDir);

// ---- strict field check from the models' .d.ts interfaces

const ifaceCache = new Map();

// The properties of the first interface declared in a .d.ts file, each
// with the .d.ts of its own interface type (or null for scalars and maps).
function readInterface(file) {
	if (ifaceCache.has(file)) return ifaceCache.get(file);
	const text = fs.readFileSync(file, "utf8");
	const imports = new Map();
	for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) imports.set(m[1], m[2]);
	const body = text.match(/export interface \w+[^{]*\{\n([\s\S]*?)\n\}/);
	let props = null;
	if (body) {
		props = new Map();
		for (const m of body[1].matchAll(/^ {4}"([^"]+)"\??: ([^;\n]+)/gm)) {
			const ty = m[2].trim();
			const id = (ty.match(/^Array<(\w+)>$/) || ty.match(/^(\w+)$/) || [])[1];
			let sub = null;
			if (id && imports.has(id)) {
				const spec = imports.get(id);
				sub = spec.startsWith(".") ? path.resolve(path.dirname(file), spec + ".d.ts")
					: path.join(nodeModules, spec + ".d.ts");
			}
			props.set(m[1], sub);
		}
	}
	ifaceCache.set(file, props);
	return props;
}

function strict(value, file, where, errors) {
	if (Array.isArray(value)) {
		value.forEach((v, i) => strict(v, file, `${where}[${i}]`, errors));
		return;
	}
	if (!value || typeof value !== "object" || !file || !fs.existsSync(file)) return;
	const props = readInterface(file);
	if (!props) return; // a type alias (Quantity, IntOrString, Time...)
	for (const [k, v] of Object.entries(value)) {
		if (!props.has(k)) errors.push(`${where}.${k}: no such field`);
		else strict(v, props.get(k), `${where}.${k}`, errors);
	}
}

// ---- agent-sandbox (written from its v1beta1 CRDs; only what we use is
// allowed, so a typo fails)

const obj = (properties, required = []) => ({ type: "object", properties, required, additionalProperties: false });
const str = { type: "string" };
const ref = obj({ name: str }, ["name"]);
const meta = { type: "object" };
const stringMap = { type: "object", additionalProperties: str };
const crdSchemas = {
	SandboxTemplate: obj({
		apiVersion: str, kind: str, metadata: meta,
		spec: obj({
			podTemplate: obj({ metadata: obj({ labels: stringMap, annotations: stringMap }), spec: { type: "object" } }, ["spec"]),
			service: { type: "boolean" },
			networkPolicyManagement: { enum: ["Managed", "Unmanaged"] },
			envVarsInjectionPolicy: { enum: ["Allowed", "Overrides", "Disallowed"] },
		}, ["podTemplate"]),
	}, ["spec"]),
	SandboxWarmPool: obj({
		apiVersion: str, kind: str, metadata: meta,
		spec: obj({
			replicas: { type: "integer", minimum: 0 },
			sandboxTemplateRef: ref,
			updateStrategy: obj({ type: { enum: ["Recreate", "OnReplenish"] } }),
		}, ["sandboxTemplateRef"]),
	}, ["spec"]),
	SandboxClaim: obj({
		apiVersion: str, kind: str, metadata: meta,
		spec: obj({
			warmPoolRef: ref,
			lifecycle: obj({
				shutdownPolicy: { enum: ["Delete", "DeleteForeground", "Retain"] },
				shutdownTime: { type: "string", format: "date-time" },
				ttlSecondsAfterFinished: { type: "integer", minimum: 0 },
			}),
			additionalPodMetadata: obj({ labels: stringMap, annotations: stringMap }),
			env: { type: "array", items: obj({ name: str, value: str, containerName: str }, ["name", "value"]) },
		}, ["warmPoolRef"]),
	}, ["spec"]),
};

const Ajv = require("ajv");
const addFormats = require("ajv-formats");
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);

async function checkBuiltin(doc, errors) {
	const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : [null, doc.apiVersion];
	const dir = path.join(modelsDir, group ?? "", version);
	const dts = path.join(dir, `${doc.kind}.d.ts`);
	if (!fs.existsSync(dts)) {
		errors.push(`unknown kind ${doc.apiVersion} ${doc.kind}`);
		return;
	}
	const mod = await import(path.join(dir, `${doc.kind}.mjs`));
	try {
		new mod[doc.kind](doc).validate();
	} catch (e) {
		errors.push(e.message);
	}
	strict(doc, dts, "", errors);
}

async function checkPodSpec(spec, where, errors) {
	const mod = await import(path.join(modelsDir, "v1", "PodSpec.mjs"));
	try {
		new mod.PodSpec(spec).validate();
	} catch (e) {
		errors.push(`${where}: ${e.message}`);
	}
	strict(spec, path.join(modelsDir, "v1", "PodSpec.d.ts"), where, errors);
}

async function check(doc) {
	const errors = [];
	if (!doc || typeof doc !== "object" || !doc.apiVersion || !doc.kind) return ["not a Kubernetes object (no apiVersion/kind)"];
	if (doc.apiVersion === "extensions.agents.x-k8s.io/v1beta1") {
		const schema = crdSchemas[doc.kind];
		if (!schema) return [`unknown agent-sandbox kind ${doc.kind}`];
		if (!ajv.validate(schema, doc)) for (const e of ajv.errors) errors.push(`${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
		if (doc.kind === "SandboxTemplate" && doc.spec?.podTemplate?.spec)
			await checkPodSpec(doc.spec.podTemplate.spec, ".spec.podTemplate.spec", errors);
		return errors;
	}
	await checkBuiltin(doc, errors);
	return errors;
}

const input = fs.readFileSync(process.argv[2] ?? 0, "utf8");
let bad = 0, n = 0;
for (const doc of yaml.loadAll(input)) {
	if (doc === null) continue;
	n++;
	const name = `${doc?.kind ?? "?"} ${doc?.metadata?.namespace ? doc.metadata.namespace + "/" : ""}${doc?.metadata?.name ?? "?"}`;
	const errors = await check(doc);
	if (errors.length) {
		bad++;
		console.log(`FAIL ${name}`);
		for (const e of errors) console.log(`  ${e}`);
	} else {
		console.log(`ok   ${name}`);
	}
}
if (!n) {
	console.log("no objects in the input");
	process.exit(1);
}
process.exit(bad ? 1 : 0);
