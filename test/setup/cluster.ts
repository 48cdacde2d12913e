// Real hosts: a scenario forms a swarm and deploys a stack over SSH.
jest.setTimeout(900_000);
