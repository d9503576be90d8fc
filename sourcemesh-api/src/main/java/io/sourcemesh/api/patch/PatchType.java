package io.sourcemesh.api.patch;

import java.util.Locale;

/** The three patch types of {@code kubectl patch --type}. */
public enum PatchType {
    STRATEGIC, MERGE, JSON;

    /** Parses kubectl's spelling: {@code strategic}, {@code merge} or {@code json}. */
    public static PatchType of(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "strategic" -> STRATEGIC;
            case "merge" -> MERGE;
            case "json" -> JSON;
            default -> throw new PatchException("--type must be one of [json merge strategic], not \"" + name + "\"");
        };
    }
}
