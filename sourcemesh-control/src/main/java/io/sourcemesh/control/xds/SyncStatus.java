package io.sourcemesh.control.xds;

/**
 * Where a proxy stands on one resource type, as {@code istioctl proxy-status} shows it: it runs what
 * was last sent (SYNCED), has not answered it yet (STALE), refused it and keeps an older version
 * (NACKED), or was never sent that type (NOT SENT).
 */
public enum SyncStatus {
    SYNCED, STALE, NACKED, NOT_SENT;

    @Override
    public String toString() {
        return this == NOT_SENT ? "NOT SENT" : name();
    }
}
