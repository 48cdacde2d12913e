import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** A new ED25519 key pair, as a user would bring it in `sshPublicKey` / `sshPrivateKey`. */
export function keyPair(name: string): { sshPublicKey: string; sshPrivateKey: string } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cluster-key-")), name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  return { sshPublicKey: fs.readFileSync(`${file}.pub`, "utf8").trim(), sshPrivateKey: fs.readFileSync(file, "utf8") };
}
