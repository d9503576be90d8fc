package io.sourcemesh.cluster.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The state directory of a local cluster: {@code --home}, else {@code SOURCEMESH_HOME}, else
 * {@code ~/.sourcemesh}. It holds the applied objects, the pods' logs, {@code daemon.json}
 * (how to reach the running daemon) and {@code address-block} (the embedded runtime's addresses it uses).
 */
public record Home(Path path) {

    /** What a running daemon publishes about itself. */
    public record DaemonInfo(int port, long pid, String runtime) {}

    public static Home resolve(Path explicit) {
        if (explicit != null) {
            return new Home(explicit.toAbsolutePath());
        }
        String env = System.getenv("SOURCEMESH_HOME");
        if (env != null && !env.isBlank()) {
            return new Home(Path.of(env).toAbsolutePath());
        }
        return new Home(Path.of(System.getProperty("user.home"), ".sourcemesh"));
    }

    public Path daemonFile() {
        return path.resolve("daemon.json");
    }

    public Path stateDir() {
        return path.resolve("state");
    }

    public Path logsDir() {
        return path.resolve("logs");
    }

    /** The daemon that is running now, if its file names a live process. */
    public Optional<DaemonInfo> daemon() {
        try {
            if (!Files.exists(daemonFile())) {
                return Optional.empty();
            }
            // read by the streaming parser: an ObjectMapper's first use is a tenth of a second of every CLI call
            var n = JsonTrees.read(Files.readAllBytes(daemonFile()));
            DaemonInfo info = new DaemonInfo(n.path("port").asInt(), n.path("pid").asLong(), n.path("runtime").asText());
            boolean alive = ProcessHandle.of(info.pid()).map(ProcessHandle::isAlive).orElse(false);
            return alive ? Optional.of(info) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public void writeDaemon(DaemonInfo info) throws IOException {
        Files.createDirectories(path);
        Path tmp = path.resolve("daemon.json.tmp");
        new ObjectMapper().writeValue(tmp.toFile(), info);
        Files.move(tmp, daemonFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public Path addressBlockFile() {
        return path.resolve("address-block");
    }

    /**
     * The embedded runtime's address block this home's state was made on (its services' ClusterIPs are in it):
     * the one its first {@code up} wrote, else 0 for state from before homes remembered it; none while the home
     * holds no state.
     */
    public OptionalInt addressBlock() {
        try {
            try (var state = Files.list(stateDir())) {
                if (state.findAny().isEmpty()) {
                    return OptionalInt.empty();
                }
            }
            if (!Files.exists(addressBlockFile())) {
                return OptionalInt.of(0);
            }
            String text = Files.readString(addressBlockFile()).strip();
            try {
                return OptionalInt.of(Integer.parseInt(text));
            } catch (NumberFormatException e) {
                throw new IllegalStateException(addressBlockFile() + " must hold an address block number, not \"" + text + "\"");
            }
        } catch (NoSuchFileException e) {
            return OptionalInt.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + addressBlockFile(), e);
        }
    }

    public void writeAddressBlock(int block) throws IOException {
        Files.createDirectories(path);
        Files.writeString(addressBlockFile(), block + "\n");
    }

    public void clearDaemon() throws IOException {
        Files.deleteIfExists(daemonFile());
    }

    /** A client for the running daemon, or an error saying how to start one. */
    public HttpClusterApi client() {
        return daemon().map(d -> new HttpClusterApi(d.port()))
                .orElseThrow(() -> new ClusterApiException(503, "no SourceMesh cluster is running in " + path
                        + ": start one with `sourcemesh up`"));
    }
}
