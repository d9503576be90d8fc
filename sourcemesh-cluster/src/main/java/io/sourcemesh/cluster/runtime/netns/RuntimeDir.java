package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.cluster.daemon.Home;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The scratch directory of one netns cluster: the sidecars' bootstraps and the xDS unix socket.
 * uid 1337 must reach both and the home may sit under a directory only root can enter, so it is a
 * world-readable temporary directory. Its path is recorded in the home: a start after a crash
 * removes the crashed run's directory, as the namespace sweep removes its namespaces.
 */
final class RuntimeDir {
    private static final Logger LOG = Logger.getLogger(RuntimeDir.class.getName());
    static final String RECORD = "netns-runtime-dir";
    static final String NAME_PREFIX = "sourcemesh-netns-";

    private RuntimeDir() {
    }

    /** Removes the directory a previous run of {@code home} left, then makes and records a new one. */
    static Path create(Home home) {
        removeLeftover(home);
        try {
            Path dir = Files.createTempDirectory(NAME_PREFIX);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.createDirectories(home.path());
            Files.writeString(home.path().resolve(RECORD), dir + "\n");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the netns runtime directory: " + e.getMessage(), e);
        }
    }

    /** Deletes {@code dir} (flat: files and the socket) and its record. */
    static void remove(Home home, Path dir) {
        deleteFlat(dir);
        try {
            Files.deleteIfExists(home.path().resolve(RECORD));
        } catch (IOException e) {
            LOG.fine("cannot remove " + home.path().resolve(RECORD) + ": " + e.getMessage());
        }
    }

    /** The directory recorded in {@code home}, if it still is one of ours. */
    static Optional<Path> recorded(Home home) {
        Path record = home.path().resolve(RECORD);
        try {
            if (!Files.isRegularFile(record)) {
                return Optional.empty();
            }
            Path dir = Path.of(Files.readString(record).strip());
            Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
            // Only a real directory of our name straight under the temporary directory: a stale or edited
            // record never makes us delete anything else.
            boolean ours = dir.isAbsolute() && tmp.equals(dir.getParent()) && dir.getFileName().toString().startsWith(NAME_PREFIX)
                    && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS);
            return ours ? Optional.of(dir) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static void removeLeftover(Home home) {
        recorded(home).ifPresent(dir -> {
            LOG.info("removing " + dir + ", left by a run that did not stop");
            deleteFlat(dir);
        });
    }

    private static void deleteFlat(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.fine("cannot remove " + dir + ": " + e.getMessage());
        }
    }
}
