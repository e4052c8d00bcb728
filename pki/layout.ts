import { join } from 'node:path'
import { CA_NAME, type LeafName } from './profiles.js'

/** kubeadm's file names under the certificates directory (default /etc/kubernetes/pki). */
export const DEFAULT_PKI_DIR = '/etc/kubernetes/pki'

const BASE_NAMES: Record<LeafName | typeof CA_NAME, string> = {
  'etcd-ca': 'etcd/ca',
  'etcd-server': 'etcd/server',
  'etcd-peer': 'etcd/peer',
  'etcd-healthcheck-client': 'etcd/healthcheck-client',
  // the one etcd certificate kubeadm keeps outside etcd/
  'apiserver-etcd-client': 'apiserver-etcd-client',
}

export interface CertFiles {
  cert: string
  key: string
}

export function filesOf(dir: string, name: LeafName | typeof CA_NAME): CertFiles {
  return filesAt(dir, BASE_NAMES[name])
}

export function filesAt(dir: string, baseName: string): CertFiles {
  return { cert: join(dir, `${baseName}.crt`), key: join(dir, `${baseName}.key`) }
}

/** Staging files of a CA rotation in progress (see rotate-ca.ts). */
export function nextCaFiles(dir: string): CertFiles {
  return filesAt(dir, 'etcd/ca-next')
}
