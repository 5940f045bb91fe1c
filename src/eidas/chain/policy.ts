/**
 * Certificate policy processing, RFC 5280 §6.1.2-§6.1.5, with the default user inputs of §6.1.1:
 * user-initial-policy-set = {anyPolicy}, initial-policy-mapping-inhibit, initial-explicit-policy and
 * initial-any-policy-inhibit all false. The valid_policy_tree is kept as levels of nodes; its size is
 * bounded (policy-tree growth is a known denial-of-service, cf. CVE-2023-0464) and processing fails
 * closed when the bound is reached.
 */
import { anyPolicy } from '../oids.js';
import type { ChainCert } from './cert.js';

export const MAX_POLICY_NODES = 1000;

interface PolicyNode {
  validPolicy: string;
  expected: Set<string>;
  parent: PolicyNode | null;
  children: PolicyNode[];
}

export interface PolicyState {
  /** Nodes at the current depth; null is the NULL tree. */
  level: PolicyNode[] | null;
  explicitPolicy: number;
  inhibitAnyPolicy: number;
  policyMapping: number;
  nodes: number;
}

export type PolicyProblem = string | null;

/** §6.1.2 (a), (d), (e), (f) with the default inputs; `n` is the number of certificates in the path. */
export function initialPolicyState(n: number): PolicyState {
  const root: PolicyNode = { validPolicy: anyPolicy, expected: new Set([anyPolicy]), parent: null, children: [] };
  return { level: [root], explicitPolicy: n + 1, inhibitAnyPolicy: n + 1, policyMapping: n + 1, nodes: 1 };
}

function addChild(st: PolicyState, parent: PolicyNode, policy: string, expected: Set<string>): PolicyNode {
  const node: PolicyNode = { validPolicy: policy, expected, parent, children: [] };
  parent.children.push(node);
  st.nodes++;
  return node;
}

/** Removes childless nodes above the current level, walking up to the root (§6.1.3 (d)(3)). */
function prune(level: PolicyNode[], parents: PolicyNode[]): void {
  let current = parents;
  while (current.length > 0) {
    const next = new Set<PolicyNode>();
    for (const node of current) {
      if (node.children.length > 0 || level.includes(node)) continue;
      const p = node.parent;
      if (!p) continue;
      p.children = p.children.filter((c) => c !== node);
      next.add(p);
    }
    current = [...next];
  }
}

/**
 * §6.1.3 (d)-(f) for certificate i (1-based, top-down) of n. Returns a problem when the path fails the
 * explicit-policy requirement or the tree grows past its bound.
 */
export function processCertificatePolicies(st: PolicyState, cert: ChainCert, i: number, n: number): PolicyProblem {
  if (cert.badExtensions.has('2.5.29.32')) return 'its certificatePolicies extension could not be decoded';
  const policies = cert.policies;
  if (policies !== null && st.level !== null) {
    const prev = st.level;
    const next: PolicyNode[] = [];
    const hasAny = policies.includes(anyPolicy);
    // (d)(1)
    for (const p of new Set(policies)) {
      if (p === anyPolicy) continue;
      let matched = false;
      for (const node of prev) {
        if (node.expected.has(p)) {
          next.push(addChild(st, node, p, new Set([p])));
          matched = true;
        }
      }
      if (!matched) {
        const anyNode = prev.find((nd) => nd.validPolicy === anyPolicy);
        if (anyNode) next.push(addChild(st, anyNode, p, new Set([p])));
      }
      if (st.nodes > MAX_POLICY_NODES) return 'the certificate policy tree grew past its safety bound';
    }
    // (d)(2)
    if (hasAny && (st.inhibitAnyPolicy > 0 || (i < n && cert.selfIssued))) {
      for (const node of prev) {
        const present = new Set(node.children.map((c) => c.validPolicy));
        for (const v of node.expected) {
          if (present.has(v)) continue;
          next.push(addChild(st, node, v, new Set([v])));
          if (st.nodes > MAX_POLICY_NODES) return 'the certificate policy tree grew past its safety bound';
        }
      }
    }
    // (d)(3)
    prune(next, prev);
    st.level = next.length > 0 ? next : null;
  } else {
    // (e)
    st.level = null;
  }
  // (f)
  if (st.explicitPolicy <= 0 && st.level === null) return 'no certificate policy is valid for the path and an explicit policy is required';
  return null;
}

/** §6.1.4 (a), (b), (h), (i), (j) when preparing for the certificate after `cert` (an intermediate). */
export function preparePolicies(st: PolicyState, cert: ChainCert): PolicyProblem {
  for (const oid of ['2.5.29.33', '2.5.29.36', '2.5.29.54']) {
    if (cert.badExtensions.has(oid)) return `its policy extension ${oid} could not be decoded`;
  }
  const mappings = cert.policyMappings;
  if (mappings) {
    // (a)
    for (const m of mappings) {
      if (m.issuerDomainPolicy === anyPolicy || m.subjectDomainPolicy === anyPolicy) {
        return 'it maps a policy to or from anyPolicy';
      }
    }
    // (b)
    if (st.level !== null) {
      const byIssuer = new Map<string, Set<string>>();
      for (const m of mappings) {
        const s = byIssuer.get(m.issuerDomainPolicy) ?? new Set<string>();
        s.add(m.subjectDomainPolicy);
        byIssuer.set(m.issuerDomainPolicy, s);
      }
      if (st.policyMapping > 0) {
        const anyNode = st.level.find((nd) => nd.validPolicy === anyPolicy);
        for (const [idp, subjects] of byIssuer) {
          const nodes = st.level.filter((nd) => nd.validPolicy === idp);
          if (nodes.length > 0) for (const nd of nodes) nd.expected = new Set(subjects);
          else if (anyNode?.parent) {
            st.level.push(addChild(st, anyNode.parent, idp, new Set(subjects)));
            if (st.nodes > MAX_POLICY_NODES) return 'the certificate policy tree grew past its safety bound';
          }
        }
      } else {
        const removed = st.level.filter((nd) => byIssuer.has(nd.validPolicy));
        const kept = st.level.filter((nd) => !byIssuer.has(nd.validPolicy));
        const parents = new Set<PolicyNode>();
        for (const nd of removed) {
          if (nd.parent) {
            nd.parent.children = nd.parent.children.filter((c) => c !== nd);
            parents.add(nd.parent);
          }
        }
        prune(kept, [...parents]);
        st.level = kept.length > 0 ? kept : null;
      }
    }
  }
  // (h)
  if (!cert.selfIssued) {
    if (st.explicitPolicy > 0) st.explicitPolicy--;
    if (st.policyMapping > 0) st.policyMapping--;
    if (st.inhibitAnyPolicy > 0) st.inhibitAnyPolicy--;
  }
  // (i)
  const pc = cert.policyConstraints;
  if (pc?.requireExplicitPolicy !== undefined && pc.requireExplicitPolicy < st.explicitPolicy) {
    st.explicitPolicy = pc.requireExplicitPolicy;
  }
  if (pc?.inhibitPolicyMapping !== undefined && pc.inhibitPolicyMapping < st.policyMapping) {
    st.policyMapping = pc.inhibitPolicyMapping;
  }
  // (j)
  if (cert.inhibitAnyPolicy !== null && cert.inhibitAnyPolicy < st.inhibitAnyPolicy) {
    st.inhibitAnyPolicy = cert.inhibitAnyPolicy;
  }
  return null;
}

/** §6.1.5 (a), (b), (g) for the end certificate, with user-initial-policy-set = {anyPolicy}. */
export function wrapUpPolicies(st: PolicyState, leaf: ChainCert): PolicyProblem {
  if (leaf.badExtensions.has('2.5.29.36')) return 'its policyConstraints extension could not be decoded';
  if (st.explicitPolicy > 0) st.explicitPolicy--;
  if (leaf.policyConstraints?.requireExplicitPolicy === 0) st.explicitPolicy = 0;
  if (st.explicitPolicy <= 0 && st.level === null) {
    return 'no certificate policy is valid for the whole path and an explicit policy is required';
  }
  return null;
}
