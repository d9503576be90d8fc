package io.sourcemesh.cluster.apps;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Maps a container spec to the built-in program that emulates it. */
public final class ContainerImages {
    private static final Set<String> SLEEP_BINARIES = Set.of("sleep", "/bin/sleep", "/usr/bin/sleep");
    private static final Set<String> SHELLS = Set.of("sh", "/bin/sh", "bash", "/bin/bash");

    private ContainerImages() {}

    /**
     * @param image   the container's {@code image}, e.g. {@code docker.io/citizenstig/httpbin}
     * @param command the container's {@code command} followed by its {@code args} (empty when unset)
     * @throws UnsupportedImageException when nothing built in can stand in for it
     */
    public static BuiltinApp resolve(String image, List<String> command) {
        String name = image == null ? "" : image.trim();
        List<String> argv = command == null ? List.of() : command;
        // a command override replaces the image's entrypoint: httpbin told to sleep only sleeps
        if (sleeps(argv)) {
            return BuiltinApp.SLEEP;
        }
        String repository = repository(name);
        if (repository.contains("httpbin")) {
            return BuiltinApp.HTTPBIN;
        }
        if (repository.equals("curlimages/curl")) {
            return BuiltinApp.SLEEP;
        }
        throw new UnsupportedImageException(image);
    }

    private static boolean sleeps(List<String> argv) {
        if (argv.isEmpty()) {
            return false;
        }
        if (SLEEP_BINARIES.contains(argv.getFirst())) {
            return true;
        }
        // sh -c "sleep 3650d" is the other common spelling
        return argv.size() >= 3 && SHELLS.contains(argv.getFirst()) && argv.get(1).equals("-c")
                && SLEEP_BINARIES.contains(argv.get(2).strip().split("\\s+", 2)[0]);
    }

    /** The repository path without registry, tag or digest: docker.io/library/x:1 → x. */
    static String repository(String image) {
        String s = image.toLowerCase(Locale.ROOT);
        int at = s.indexOf('@');
        if (at >= 0) {
            s = s.substring(0, at);
        }
        int colon = s.lastIndexOf(':');
        if (colon > s.lastIndexOf('/')) {
            s = s.substring(0, colon);
        }
        int slash = s.indexOf('/');
        if (slash > 0) {
            String first = s.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                s = s.substring(slash + 1); // a registry host
            }
        }
        return s.startsWith("library/") ? s.substring("library/".length()) : s;
    }
}
