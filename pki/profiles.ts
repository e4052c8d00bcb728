import { isIP } from 'node:net'

/**
 * The etcd certificates kubeadm makes (cmd/kubeadm/app/phases/certs/certlist.go) and the subject, SANs and
 * extended key usages of each. Everything here is data; signing lives in issue.ts.
 */
export type ExtKeyUsage = 'serverAuth' | 'clientAuth'

export const CA_NAME = 'etcd-ca'
export const LEAF_NAMES = ['apiserver-etcd-client', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server'] as const
export type LeafName = (typeof LEAF_NAMES)[number]

export function isLeafName(name: string): name is LeafName {
  return (LEAF_NAMES as readonly string[]).includes(name)
}

/** What a certificate says about its holder; renewal copies exactly these fields from the old certificate. */
export interface CertSubject {
  commonName: string
  organization: string[]
  dnsNames: string[]
  ipAddresses: string[]
  usages: ExtKeyUsage[]
}

/** One etcd member as kubeadm sees it: `nodeRegistration.name`, the advertise address and the extra SANs. */
export interface Member {
  nodeName: string
  advertiseAddress: string
  serverCertSans?: string[]
  peerCertSans?: string[]
}

export interface AltNames {
  dnsNames: string[]
  ipAddresses: string[]
  /** Extra SANs that are neither an IP nor a DNS name; kubeadm warns about them and leaves them out. */
  skipped: string[]
}

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?'
const DNS_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`)

function isDnsSubdomain(name: string): boolean {
  return name.length <= 253 && DNS_SUBDOMAIN.test(name)
}

function isDnsName(name: string): boolean {
  return isDnsSubdomain(name) || (name.startsWith('*.') && isDnsSubdomain(name.slice(2)))
}

/** kubeadm `appendSANsToAltNames`: an IP address, else an RFC 1123 subdomain (or wildcard), else neither. */
export function classifySan(san: string): 'ip' | 'dns' | undefined {
  if (isIP(san)) return 'ip'
  return isDnsName(san) ? 'dns' : undefined
}

/** Go's net.IP.String() form, so `::1` and `0:0:0:0:0:0:0:1` deduplicate as kubeadm does. */
export function canonicalIp(ip: string): string {
  if (isIP(ip) === 6) return new URL(`http://[${ip}]`).hostname.slice(1, -1)
  return ip
}

/** kubeadm `getAltNames` + `appendSANsToAltNames` + `RemoveDuplicateAltNames`: DNS deduplicated and sorted, IPs deduplicated in order. */
export function memberAltNames(nodeName: string, advertiseAddress: string, extraSans: string[] = []): AltNames {
  if (!isIP(advertiseAddress)) throw new Error(`advertise address "${advertiseAddress}" is not a valid IP address`)
  const dns = [nodeName, 'localhost']
  const ips = [advertiseAddress, '127.0.0.1', '::1']
  const skipped: string[] = []
  for (const san of extraSans) {
    const kind = classifySan(san)
    if (kind === 'ip') ips.push(san)
    else if (kind === 'dns') dns.push(san)
    else skipped.push(san)
  }
  const ipAddresses = [...new Set(ips.map(canonicalIp))]
  return { dnsNames: [...new Set(dns)].sort(), ipAddresses, skipped }
}

export function leafSubject(name: LeafName, member: Member): CertSubject {
  switch (name) {
    case 'etcd-server': {
      const { dnsNames, ipAddresses } = memberAltNames(member.nodeName, member.advertiseAddress, member.serverCertSans)
      return { commonName: member.nodeName, organization: [], dnsNames, ipAddresses, usages: ['serverAuth', 'clientAuth'] }
    }
    case 'etcd-peer': {
      const { dnsNames, ipAddresses } = memberAltNames(member.nodeName, member.advertiseAddress, member.peerCertSans)
      return { commonName: member.nodeName, organization: [], dnsNames, ipAddresses, usages: ['serverAuth', 'clientAuth'] }
    }
    case 'etcd-healthcheck-client':
      return clientSubject('kube-etcd-healthcheck-client')
    case 'apiserver-etcd-client':
      return clientSubject('kube-apiserver-etcd-client')
  }
}

/** A client certificate for an etcd user: with `--client-cert-auth` and auth enabled, etcd takes the CN as the user name. */
export function clientSubject(user: string, organization: string[] = []): CertSubject {
  if (user === '') throw new Error('a client certificate needs a user name (its CN)')
  return { commonName: user, organization, dnsNames: [], ipAddresses: [], usages: ['clientAuth'] }
}

/** The extended key usages each kubeadm leaf must carry (checked by verify). */
export const LEAF_USAGES: Record<LeafName, ExtKeyUsage[]> = {
  'etcd-server': ['serverAuth', 'clientAuth'],
  'etcd-peer': ['serverAuth', 'clientAuth'],
  'etcd-healthcheck-client': ['clientAuth'],
  'apiserver-etcd-client': ['clientAuth'],
}
