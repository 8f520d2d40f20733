// The stack's own name: the domain it serves over HTTPS, its hosted zone and
// certificate.
import { Reader } from "./reader";

/** A DNS name as the domain settings take it: lowercase, no trailing dot. */
export const dnsName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** A Route 53 hosted zone ID. */
export const hostedZoneIdPattern = /^Z[A-Z0-9]{1,31}$/;

export interface DomainSettings {
    /** The stack's own name, served over HTTPS; undefined serves plain HTTP on the load balancer's name. */
    domainName?: string;
    /** The Route 53 zone that holds domainName; undefined looks it up by the domain's parent name. */
    hostedZoneId?: string;
    /** An ACM certificate for domainName; undefined requests one, validated by DNS in the zone. */
    certificateArn?: string;
}

export function readDomainSettings(r: Reader): DomainSettings {
    const domainName = (r.str("domainName") ?? "").trim().toLowerCase().replace(/\.$/, "");
    if (domainName !== "" && !dnsName.test(domainName)) {
        r.problems.push(`${r.at("domainName")} is ${JSON.stringify(domainName)}; it accepts a DNS name such as calc.example.com`);
    }
    const hostedZoneId = (r.str("hostedZoneId") ?? "").trim();
    if (hostedZoneId !== "" && !hostedZoneIdPattern.test(hostedZoneId)) {
        r.problems.push(
            `${r.at("hostedZoneId")} is ${JSON.stringify(hostedZoneId)}; it accepts a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ`,
        );
    }
    if (hostedZoneId !== "" && domainName === "") {
        r.problems.push(`${r.at("hostedZoneId")} is set without ${r.at("domainName")}; it is the zone that holds domainName`);
    }
    const certRaw = r.str("certificateArn") ?? "";
    if (certRaw !== "" && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(certRaw)) {
        r.problems.push(
            `${r.at("certificateArn")} is ${JSON.stringify(certRaw)}; it accepts an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID) or "" to have one made for domainName`,
        );
    } else if (certRaw !== "" && domainName === "") {
        r.problems.push(
            `${r.at("certificateArn")} is set without ${r.at("domainName")}; no certificate can cover the load balancer's own name (*.elb.amazonaws.com), so HTTPS needs your domain: set domainName`,
        );
    }
    return {
        domainName: domainName === "" ? undefined : domainName,
        hostedZoneId: hostedZoneId === "" ? undefined : hostedZoneId,
        certificateArn: certRaw === "" ? undefined : certRaw,
    };
}
