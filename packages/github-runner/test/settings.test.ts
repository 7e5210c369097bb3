import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  authorizationUrls,
  decodeJitConfig,
  generateRunnerKey,
  JitConfigError,
  type RunnerConfiguration,
  RunnerSettingsError,
  readRunnerConfiguration,
  rsaParamsFromKey,
  writeRunnerConfiguration,
} from "../src/index.ts";

const key = generateRunnerKey();

const configuration: RunnerConfiguration = {
  settings: {
    agentId: 42,
    agentName: "solstice-1",
    poolId: 1,
    poolName: "Default",
    serverUrl: "https://pipelines.actions.githubusercontent.com/abc/",
    serverUrlV2: "https://broker.actions.githubusercontent.com/",
    gitHubUrl: "https://github.com/acme/app",
    workFolder: "_work",
    useV2Flow: true,
    useRunnerAdminFlow: true,
    ephemeral: false,
    disableUpdate: true,
  },
  credentials: {
    scheme: "OAuth",
    data: {
      clientId: "c1",
      authorizationUrl: "https://token.actions.githubusercontent.com/c1",
      requireFipsCryptography: true,
    },
  },
  key,
};

describe("runner files", () => {
  it("writes .runner, .credentials and .credentials_rsaparams with mode 0600 and reads them back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gh-runner-"));
    await writeRunnerConfiguration(dir, configuration);
    for (const name of [".runner", ".credentials", ".credentials_rsaparams"]) {
      expect((await stat(join(dir, name))).mode & 0o777).toBe(0o600);
    }
    const runner = JSON.parse(await readFile(join(dir, ".runner"), "utf8")) as Record<string, unknown>;
    expect(runner).toMatchObject({
      agentId: 42,
      agentName: "solstice-1",
      serverUrlV2: configuration.settings.serverUrlV2,
      useV2Flow: true,
    });
    const credentials = JSON.parse(await readFile(join(dir, ".credentials"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(credentials).toEqual({
      scheme: "OAuth",
      data: {
        clientId: "c1",
        authorizationUrl: configuration.credentials.data.authorizationUrl,
        requireFipsCryptography: "True",
      },
    });
    const back = await readRunnerConfiguration(dir);
    expect(back.settings).toMatchObject(configuration.settings);
    expect(back.credentials).toEqual(configuration.credentials);
    expect(back.key.export({ format: "jwk" })).toEqual(key.export({ format: "jwk" }));
  });

  it("reads files the reference runner wrote (byte order mark, PascalCase)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gh-runner-"));
    await writeRunnerConfiguration(dir, configuration);
    await writeFile(
      join(dir, ".runner"),
      `\uFEFF${JSON.stringify({ AgentId: 7, AgentName: "x", PoolId: 1, ServerUrl: "https://p/", WorkFolder: "_work", UseV2Flow: true })}`,
    );
    const back = await readRunnerConfiguration(dir);
    expect(back.settings).toMatchObject({ agentId: 7, agentName: "x", useV2Flow: true });
  });

  it("names the file and the field of a bad value", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gh-runner-"));
    await writeRunnerConfiguration(dir, configuration);
    await writeFile(join(dir, ".credentials"), JSON.stringify({ scheme: "OAuth", data: { clientId: "c1" } }));
    const error = await readRunnerConfiguration(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunnerSettingsError);
    expect((error as RunnerSettingsError).field).toBe("data.authorizationUrl");
    expect((error as Error).message).toContain(".credentials");
    await expect(readRunnerConfiguration(join(dir, "missing"))).rejects.toThrow(/no such file/);
  });

  it("prefers the v2 authorization URL after an auth migration", () => {
    expect(authorizationUrls(configuration.credentials)).toEqual({
      primary: configuration.credentials.data.authorizationUrl,
    });
    expect(
      authorizationUrls({
        scheme: "OAuth",
        data: { ...configuration.credentials.data, authorizationUrlV2: "https://v2/token" },
      }),
    ).toEqual({ primary: "https://v2/token", fallback: configuration.credentials.data.authorizationUrl });
  });
});

describe("--jitconfig", () => {
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  const jit = {
    ".runner": b64(
      JSON.stringify({
        AgentId: "3",
        AgentName: "jit-1",
        PoolId: "1",
        PoolName: "Default",
        ServerUrl: "https://pipelines.actions.githubusercontent.com/abc/",
        ServerUrlV2: "https://broker.actions.githubusercontent.com/",
        WorkFolder: "_work",
        UseV2Flow: "True",
        Ephemeral: "True",
        DisableUpdate: "False",
      }),
    ),
    ".credentials": b64(
      JSON.stringify({
        Scheme: "OAuth",
        Data: { ClientId: "c3", AuthorizationUrl: "https://token/c3", RequireFipsCryptography: "True" },
      }),
    ),
    ".credentials_rsaparams": b64(JSON.stringify(rsaParamsFromKey(key))),
  };

  it("decodes the files into the same settings", () => {
    const config = decodeJitConfig(b64(JSON.stringify(jit)));
    expect(config.settings).toMatchObject({
      agentId: 3,
      agentName: "jit-1",
      poolId: 1,
      useV2Flow: true,
      ephemeral: true,
      disableUpdate: false,
      serverUrlV2: "https://broker.actions.githubusercontent.com/",
    });
    expect(config.credentials.data).toEqual({
      clientId: "c3",
      authorizationUrl: "https://token/c3",
      requireFipsCryptography: true,
    });
    expect(config.key.export({ format: "jwk" })).toEqual(key.export({ format: "jwk" }));
  });

  it("refuses what is not a JIT config", () => {
    expect(() => decodeJitConfig("!!!")).toThrow(JitConfigError);
    expect(() => decodeJitConfig(b64("[1]"))).toThrow(JitConfigError);
    const { ".credentials": _c, ...partial } = jit;
    expect(() => decodeJitConfig(b64(JSON.stringify(partial)))).toThrow(/no .credentials/);
    const bad = { ...jit, ".runner": b64(JSON.stringify({ AgentId: "x", AgentName: "a", ServerUrl: "u" })) };
    expect(() => decodeJitConfig(b64(JSON.stringify(bad)))).toThrow(/jitconfig:.runner: agentId/);
  });
});
