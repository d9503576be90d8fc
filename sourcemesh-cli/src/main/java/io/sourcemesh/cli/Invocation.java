package io.sourcemesh.cli;

import io.sourcemesh.cluster.daemon.Home;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where a command line was typed: its working directory and the environment variables a verb reads.
 * A verb run in its own JVM reads the process's; one the daemon runs for the launcher ({@link VerbSocket})
 * reads its caller's, bound here for the call, so both resolve {@code --home} and {@code SOURCEMESH_HOME}
 * alike.
 */
record Invocation(Path cwd, Map<String, String> env) {
    static final ScopedValue<Invocation> CURRENT = ScopedValue.newInstance();

    /** The state directory a verb works in: {@code --home}, else {@code SOURCEMESH_HOME}, else {@code ~/.sourcemesh}. */
    static Home home(Path explicit) {
        if (!CURRENT.isBound()) {
            return Home.resolve(explicit);
        }
        Invocation caller = CURRENT.get();
        if (explicit != null) {
            return Home.resolve(caller.cwd().resolve(explicit));
        }
        String env = caller.env().get("SOURCEMESH_HOME");
        if (env != null && !env.isBlank()) {
            return Home.resolve(caller.cwd().resolve(env));
        }
        // Home.resolve's last rule; not Home.resolve(null), which would read the daemon's own environment
        return new Home(Path.of(System.getProperty("user.home"), ".sourcemesh"));
    }
}
