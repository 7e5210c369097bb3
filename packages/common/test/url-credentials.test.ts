import { describe, expect, test } from "vitest";
import { hasUrlCredentials, redactUrlCredentials, SecretMasker, stripUrlCredentials } from "../src/index.ts";

// Credentials in URLs: replaced in any text (messages, logs, stored text), stripped from a URL
// that is stored or shown.

describe("URL credentials", () => {
  test.each([
    [
      "user and password",
      "https://oauth2:tok3n@forge.example/me/app.git",
      "https://***@forge.example/me/app.git",
    ],
    [
      "a token as the user name",
      "clone https://ghp_abc123@github.com/me/app failed",
      "clone https://***@github.com/me/app failed",
    ],
    ["an @ in the password", "http://u:p@ss@host:3000/x", "http://***@host:3000/x"],
    [
      "several URLs in a line",
      "a=amqp://g:pw@mq:5672/ b=postgres://s:pw2@db/x",
      "a=amqp://***@mq:5672/ b=postgres://***@db/x",
    ],
    ["quoted in JSON", '{"url":"https://u:tok@h/r"}', '{"url":"https://***@h/r"}'],
    ["no credentials", "https://forge.example/me/app.git", "https://forge.example/me/app.git"],
    [
      "an @ in the path only",
      "https://forge.example/me/app@v1 and me@example.org",
      "https://forge.example/me/app@v1 and me@example.org",
    ],
    ["no URL", "user:pass@host is not a URL", "user:pass@host is not a URL"],
    [
      "an SSH account name is no credential",
      "ssh://git@forge.example:2222/me/app.git",
      "ssh://git@forge.example:2222/me/app.git",
    ],
    ["an SSH password is", "ssh://git:pw@forge.example/me/app.git", "ssh://***@forge.example/me/app.git"],
  ])("%s", (_name, text, redacted) => {
    expect(redactUrlCredentials(text)).toBe(redacted);
    expect(hasUrlCredentials(text)).toBe(redacted !== text);
  });

  test("a stored URL loses its credentials altogether", () => {
    expect(stripUrlCredentials("http://oauth2:tok@127.0.0.1:9/owner/repo.git")).toBe(
      "http://127.0.0.1:9/owner/repo.git",
    );
    expect(stripUrlCredentials("https://tok@github.com/me/app")).toBe("https://github.com/me/app");
    expect(stripUrlCredentials("git@forge.example:me/app.git")).toBe("git@forge.example:me/app.git");
    expect(stripUrlCredentials("ssh://git@forge.example/me/app.git")).toBe(
      "ssh://git@forge.example/me/app.git",
    );
  });

  test("the services' log masker redacts them too, a token as user name included", () => {
    const masker = new SecretMasker();
    expect(masker.mask('{"msg":"fetch https://ghp_abc123@github.com/me/app"}')).toBe(
      '{"msg":"fetch https://***@github.com/me/app"}',
    );
  });
});
