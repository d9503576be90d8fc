package io.sourcemesh.control.ca;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The certificates issued so far, by CA and identity: a push re-sends the same certificate (so an unchanged proxy's
 * config version stays the same) until it is half-way through its life, when a new one is issued, as Istio's agent
 * rotates. A new CA (another root or signer) issues afresh.
 */
public final class WorkloadCertificates {
    private final Map<String, WorkloadCertificate> issued = new ConcurrentHashMap<>();

    private WorkloadCertificates() {}

    public static WorkloadCertificates create() {
        return new WorkloadCertificates();
    }

    public WorkloadCertificate of(MeshCa ca, String spiffeId) {
        String key = ca.fingerprint() + "|" + spiffeId;
        Instant now = Instant.now();
        return issued.compute(key, (k, old) -> old == null || old.due(now) ? ca.issue(spiffeId) : old);
    }
}
