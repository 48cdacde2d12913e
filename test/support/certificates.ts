/**
 * Certificates for the harness where the program asks AWS for one (ACM): a throwaway certificate
 * authority and a leaf for the requested names, made with openssl. Clients in tests trust `caPem`.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface IssuedCertificate {
  /** The leaf certificate followed by its key: what HAProxy's `crt` takes. */
  pemPath: string;
  /** The authority's certificate, for clients. */
  caPem: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

/** A CA and a leaf for `names` (the first is the subject), valid one day, in `dir`. */
export function issueCertificate(dir: string, names: string[]): IssuedCertificate {
  fs.mkdirSync(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(dir, ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=harness CA"]);
  openssl(dir, ["req", ...ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", `/CN=${names[0]}`]);
  fs.writeFileSync(
    path.join(dir, "leaf.ext"),
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "leaf.pem",
    "-days",
    "1",
    "-extfile",
    "leaf.ext",
  ]);
  const pemPath = path.join(dir, "leaf-with-key.pem");
  fs.writeFileSync(
    pemPath,
    fs.readFileSync(path.join(dir, "leaf.pem"), "utf8") + fs.readFileSync(path.join(dir, "leaf.key"), "utf8"),
  );
  return { pemPath, caPem: fs.readFileSync(path.join(dir, "ca.pem"), "utf8") };
}
