import { removeKeyFiles } from "../program/ssh";

// Real hosts: a scenario forms a swarm and deploys a stack over SSH.
jest.setTimeout(900_000);
// The SSH key files a test file's commands wrote go with it (see removeKeyFiles).
afterAll(removeKeyFiles);
