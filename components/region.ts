import * as aws from "@pulumi/aws";
import { RegionFacts } from "../lib/region";

/**
 * Asks EC2 what lib/region.ts chooses from: the zones that need no opt-in (Local and Wavelength
 * Zones do), which of `instanceTypes` each zone offers (by zone ID), and each type's
 * architectures. Three invokes, before any resource, on every run.
 */
export async function regionFacts(instanceTypes: string[]): Promise<RegionFacts> {
  const [zones, offerings, types] = await Promise.all([
    aws.getAvailabilityZones({
      state: "available",
      filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
    }),
    aws.ec2.getInstanceTypeOfferings({
      locationType: "availability-zone-id",
      filters: [{ name: "instance-type", values: instanceTypes }],
    }),
    Promise.all(instanceTypes.map((instanceType) => aws.ec2.getInstanceType({ instanceType }))),
  ]);
  const offered: Record<string, string[]> = {};
  offerings.locations.forEach(
    (zoneId, i) => (offered[zoneId] = [...(offered[zoneId] ?? []), offerings.instanceTypes[i]]),
  );
  return {
    zones: zones.names.map((name, i) => ({ name, zoneId: zones.zoneIds[i] })),
    offerings: offered,
    architectures: Object.fromEntries(types.map((t, i) => [instanceTypes[i], t.supportedArchitectures])),
  };
}
