package io.sourcemesh.cluster.store;

import io.sourcemesh.api.resource.KubeObject;

import java.util.Locale;

/** What {@code apply} did to one object, printed as kubectl does: {@code deployment.apps/sleep created}. */
public record ApplyResult(KubeObject object, Outcome outcome) {

    public enum Outcome {
        CREATED, CONFIGURED, UNCHANGED;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    @Override
    public String toString() {
        return object + " " + outcome;
    }
}
