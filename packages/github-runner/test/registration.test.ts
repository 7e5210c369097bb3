import { describe, expect, it } from "vitest";
import {
  actionsUrl,
  apiBaseUrl,
  chooseRunnerGroup,
  configurationFromRegistration,
  GitHubUrlError,
  generateRunnerKey,
  jitConfigUrl,
  parseGitHubUrl,
  RegisteredRunnerSchema,
  RunnerGroupNotFoundError,
  registerRunnerBody,
  registerRunnerUrl,
  runnerLabels,
  runnerRegistrationBody,
  runnerRegistrationUrl,
  runnersByNameUrl,
  runnerTokenUrl,
  runnerUrl,
} from "../src/index.ts";

describe("registration URLs", () => {
  it("uses api.github.com for github.com", () => {
    const repo = parseGitHubUrl("https://github.com/acme/app");
    expect(apiBaseUrl(repo)).toBe("https://api.github.com");
    expect(runnerRegistrationUrl(repo)).toBe("https://api.github.com/actions/runner-registration");
    expect(registerRunnerUrl(repo)).toBe("https://api.github.com/actions/runners/register");
    expect(actionsUrl(repo)).toBe("https://api.github.com/repos/acme/app/actions");
    expect(runnersByNameUrl(repo, "a b")).toBe(
      "https://api.github.com/repos/acme/app/actions/runners?name=a%20b",
    );
    expect(runnerUrl(repo, 9)).toBe("https://api.github.com/repos/acme/app/actions/runners/9");
    expect(runnerTokenUrl(repo, "remove")).toBe(
      "https://api.github.com/repos/acme/app/actions/runners/remove-token",
    );
    expect(jitConfigUrl(parseGitHubUrl("https://github.com/acme"))).toBe(
      "https://api.github.com/orgs/acme/actions/runners/generate-jitconfig",
    );
  });

  it("uses {scheme}://{host}[:port]/api/v3 for GHES (a port kept), api.{host} for hosted", () => {
    const ghes = parseGitHubUrl("http://ghes.local:8080/acme");
    expect(ghes.hosted).toBe(false);
    expect(apiBaseUrl(ghes)).toBe("http://ghes.local:8080/api/v3");
    expect(actionsUrl(ghes)).toBe("http://ghes.local:8080/api/v3/orgs/acme/actions");
    expect(apiBaseUrl(parseGitHubUrl("https://ghes.local/acme"))).toBe("https://ghes.local/api/v3");
    expect(apiBaseUrl(parseGitHubUrl("https://acme.ghe.com/x/y"))).toBe("https://api.acme.ghe.com");
    expect(actionsUrl(parseGitHubUrl("https://github.com/enterprises/big"))).toBe(
      "https://api.github.com/enterprises/big/actions",
    );
  });

  it("refuses URLs that name no repository, organization or enterprise", () => {
    expect(() => parseGitHubUrl("https://github.com/")).toThrow(GitHubUrlError);
    expect(() => parseGitHubUrl("https://github.com/a/b/c")).toThrow(GitHubUrlError);
    expect(() => parseGitHubUrl("not a url")).toThrow(GitHubUrlError);
  });
});

describe("labels", () => {
  it("starts with self-hosted, the OS and the architecture as GitHub names them", () => {
    expect(runnerLabels({ os: "Linux", arch: "X64", extra: ["omnios", "self-hosted"] })).toEqual([
      "self-hosted",
      "Linux",
      "X64",
      "omnios",
    ]);
    expect(runnerLabels({ noDefaultLabels: true, extra: ["only"] })).toEqual(["only"]);
    expect(() => runnerLabels({ noDefaultLabels: true })).toThrow();
  });
});

describe("register bodies", () => {
  const target = parseGitHubUrl("https://github.com/acme/app");

  it("builds runner-registration and register bodies", () => {
    expect(runnerRegistrationBody(target, "register")).toEqual({
      url: "https://github.com/acme/app",
      runner_event: "register",
    });
    const body = registerRunnerBody(target, {
      groupId: 1,
      name: "solstice-1",
      version: "2.329.0",
      labels: ["self-hosted", "Linux", "X64", "omnios"],
      ephemeral: false,
      disableUpdate: true,
      publicKeyXml: "<RSAKeyValue/>",
    });
    expect(body).toEqual({
      url: "https://github.com/acme/app",
      group_id: 1,
      name: "solstice-1",
      version: "2.329.0",
      updates_disabled: true,
      ephemeral: false,
      labels: [
        { id: 0, name: "self-hosted", type: "system" },
        { id: 0, name: "Linux", type: "system" },
        { id: 0, name: "X64", type: "system" },
        { id: 0, name: "omnios", type: "user" },
      ],
      public_key: "<RSAKeyValue/>",
    });
    expect(
      registerRunnerBody(target, {
        ...{
          groupId: 1,
          name: "n",
          version: "v",
          labels: ["x"],
          ephemeral: true,
          disableUpdate: true,
          publicKeyXml: "k",
        },
        replaceRunnerId: 5,
      }),
    ).toMatchObject({ runner_id: 5, replace: true });
  });

  it("chooses the named group or the default one", () => {
    const groups = [
      { id: 1, name: "Default", default: true, is_hosted: false },
      { id: 2, name: "GPU", default: false, is_hosted: false },
      { id: 3, name: "Hosted", default: false, is_hosted: true },
    ];
    expect(chooseRunnerGroup(groups).id).toBe(1);
    expect(chooseRunnerGroup(groups, "gpu").id).toBe(2);
    expect(() => chooseRunnerGroup(groups, "Hosted")).toThrow(RunnerGroupNotFoundError);
  });

  it("reads the runner's credentials under `authorization` and writes the reference runner's files", () => {
    const runner = RegisteredRunnerSchema.parse({
      id: 17,
      name: "solstice-1",
      os: "linux",
      authorization: {
        server_url: "https://broker.actions.githubusercontent.com/",
        authorization_url: "https://token.actions.githubusercontent.com/v2",
        client_id: "c17",
        legacy_authorization_url: "https://vstoken.actions.githubusercontent.com/legacy",
      },
    });
    expect(
      RegisteredRunnerSchema.safeParse({ id: 1, name: "x", runner_authorization: runner.authorization })
        .success,
    ).toBe(false);
    const config = configurationFromRegistration({
      target,
      tenant: { url: "https://pipelines.actions.githubusercontent.com/t/", use_v2_flow: true },
      group: { id: 1, name: "Default", default: true, is_hosted: false },
      runner,
      key: generateRunnerKey(),
      ephemeral: true,
      disableUpdate: true,
      workFolder: "_work",
    });
    expect(config.settings).toMatchObject({
      agentId: 17,
      poolId: 1,
      serverUrl: "https://pipelines.actions.githubusercontent.com/t/",
      serverUrlV2: "https://broker.actions.githubusercontent.com/",
      gitHubUrl: "https://github.com/acme/app",
      useV2Flow: true,
      useRunnerAdminFlow: true,
      ephemeral: true,
    });
    expect(config.credentials.data).toEqual({
      clientId: "c17",
      authorizationUrl: "https://vstoken.actions.githubusercontent.com/legacy",
      authorizationUrlV2: "https://token.actions.githubusercontent.com/v2",
      enableAuthMigrationByDefault: true,
      requireFipsCryptography: true,
    });
  });
});
