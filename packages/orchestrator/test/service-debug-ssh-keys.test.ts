import { generateEphemeralKeyPair } from "@solstice/vm-engine";
import { describe, expect, test } from "vitest";
import { parseDebugSshKeys } from "../src/service/debug-ssh-keys.ts";

const ed = generateEphemeralKeyPair("me@laptop").publicKey;
const rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 alice@work";

describe("parseDebugSshKeys", () => {
  test.each([
    ["absent", undefined, { keys: [], problems: [] }],
    ["one key", ed, { keys: [ed], problems: [] }],
    ["one per line, blank lines ignored", `${ed}\n\n  ${rsa}  \n`, { keys: [ed, rsa], problems: [] }],
    ["separated by ;", `${ed};${rsa}`, { keys: [ed, rsa], problems: [] }],
    [
      "authorized_keys options are refused, unquoted",
      `command="rm -rf /" ${ed}`,
      {
        keys: [],
        problems: ['entry 1: not an OpenSSH public key ("<type> <base64> [comment]", no options)'],
      },
    ],
    [
      "a private key is refused",
      `${rsa}\n-----BEGIN OPENSSH PRIVATE KEY-----`,
      {
        keys: [rsa],
        problems: ['entry 2: not an OpenSSH public key ("<type> <base64> [comment]", no options)'],
      },
    ],
    [
      "an unknown type is refused",
      "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
      {
        keys: [],
        problems: ['entry 1: not an OpenSSH public key ("<type> <base64> [comment]", no options)'],
      },
    ],
  ])("%s", (_name, value, expected) => {
    expect(parseDebugSshKeys(value)).toEqual(expected);
  });
});
