// Reading Dockerfile and docker-compose.yml the way Docker does, so that tests can run the commands they
// name, with the container paths mapped to the files the compose file mounts.
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "./tools.js";

export interface ComposeService {
  profiles?: string[];
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string[];
  network_mode?: string;
  volumes?: string[];
  secrets?: Array<string | { source: string; target?: string }>;
  environment?: Record<string, string>;
  ports?: string[];
  networks?: Record<string, { aliases?: string[] } | null>;
  read_only?: boolean;
  depends_on?: string[];
  healthcheck?: { disable?: boolean };
  stop_grace_period?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

export function readCompose(): ComposeFile {
  return parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as ComposeFile;
}

export function service(compose: ComposeFile, name: string): ComposeService {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

export type Mount = { kind: "bind"; hostPath: string; readOnly: boolean } | { kind: "volume"; name: string };

/** Container path -> what is mounted there (bind mounts resolved against the repository). */
export function mounts(s: ComposeService): Map<string, Mount> {
  const out = new Map<string, Mount>();
  for (const spec of s.volumes ?? []) {
    const [source = "", target = "", mode] = spec.split(":");
    if (source.startsWith(".") || source.startsWith("/")) {
      const hostPath = isAbsolute(source) ? source : join(ROOT, source);
      out.set(target, { kind: "bind", hostPath, readOnly: mode === "ro" });
    } else {
      out.set(target, { kind: "volume", name: source });
    }
  }
  return out;
}

/** /run/secrets/<target> -> the host file of the secret. */
export function secretFiles(compose: ComposeFile, s: ComposeService): Map<string, string> {
  const out = new Map<string, string>();
  for (const ref of s.secrets ?? []) {
    const source = typeof ref === "string" ? ref : ref.source;
    const target = typeof ref === "string" ? ref : (ref.target ?? ref.source);
    const file = compose.secrets[source]?.file;
    if (file === undefined) throw new Error(`secret ${source} is not defined with a file`);
    out.set(`/run/secrets/${target}`, join(ROOT, file));
  }
  return out;
}

export interface DockerStage {
  readonly from: string;
  readonly env: Map<string, string>;
  readonly user: string | undefined;
  readonly workdir: string | undefined;
  readonly entrypoint: string[];
  readonly cmd: string[];
  /** The HEALTHCHECK's CMD (exec form) and its options. */
  readonly healthcheck: { cmd: string[]; options: string } | undefined;
  readonly volumes: string[];
  readonly expose: string[];
  /** Every instruction, continuation lines joined. */
  readonly instructions: Array<{ keyword: string; args: string }>;
}

/** The stages of a Dockerfile, in order (the last one is the image). */
export function readDockerfile(path: string): DockerStage[] {
  const text = readFileSync(path, "utf8");
  const args = new Map<string, string>();
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const stages: DockerStage[] = [];
  let current: { -readonly [K in keyof DockerStage]: DockerStage[K] } | undefined;
  for (const line of lines) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const keyword = (m[1] ?? "").toUpperCase();
    const rest = (m[2] ?? "").replace(/\s+/g, " ");
    if (keyword === "ARG" && current === undefined) {
      const [name = "", value = ""] = rest.split("=");
      args.set(name, value);
      continue;
    }
    if (keyword === "FROM") {
      const from = rest.replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? "");
      current = {
        from,
        env: new Map(),
        user: undefined,
        workdir: undefined,
        entrypoint: [],
        cmd: [],
        healthcheck: undefined,
        volumes: [],
        expose: [],
        instructions: [],
      };
      stages.push(current);
      continue;
    }
    if (!current) throw new Error(`${path}: ${keyword} before FROM`);
    current.instructions.push({ keyword, args: rest });
    const stage = current;
    switch (keyword) {
      case "ENV":
        for (const kv of rest.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
          const raw = kv[2] ?? "";
          stage.env.set(kv[1] ?? "", raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
        }
        break;
      case "USER":
        stage.user = rest;
        break;
      case "WORKDIR":
        stage.workdir = rest;
        break;
      case "ENTRYPOINT":
        stage.entrypoint = execForm(path, keyword, rest);
        break;
      case "CMD":
        stage.cmd = execForm(path, keyword, rest);
        break;
      case "VOLUME":
        stage.volumes.push(...execForm(path, keyword, rest));
        break;
      case "EXPOSE":
        stage.expose.push(...rest.split(" "));
        break;
      case "HEALTHCHECK": {
        const hc = /^(.*?)\bCMD\s+(\[.*\])$/.exec(rest);
        if (!hc) throw new Error(`${path}: HEALTHCHECK must use CMD in exec form`);
        stage.healthcheck = { options: (hc[1] ?? "").trim(), cmd: execForm(path, keyword, hc[2] ?? "") };
        break;
      }
    }
  }
  return stages;
}

function execForm(path: string, keyword: string, rest: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(rest);
  } catch {
    throw new Error(`${path}: ${keyword} is not in exec form (a JSON array): ${rest}`);
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`${path}: ${keyword} is not an array of strings`);
  }
  return value;
}

/** The runtime (last) stage. */
export function imageStage(path: string): DockerStage {
  const stages = readDockerfile(path);
  const last = stages[stages.length - 1];
  if (!last) throw new Error(`${path} has no FROM`);
  return last;
}
