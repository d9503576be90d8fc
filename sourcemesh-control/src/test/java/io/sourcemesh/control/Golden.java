package io.sourcemesh.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Golden files under src/test/resources/golden. Run with -Dgolden.update=true to rewrite them from the
 * current output, then review the diff before committing.
 */
public final class Golden {
    private static final Path DIR = Path.of("src", "test", "resources", "golden");

    private Golden() {}

    public static void assertMatches(String name, String actual) {
        Path file = DIR.resolve(name + ".json");
        try {
            if (Boolean.getBoolean("golden.update")) {
                Files.createDirectories(file.getParent());
                Files.writeString(file, actual, StandardCharsets.UTF_8);
                return;
            }
            if (!Files.exists(file)) {
                fail("missing golden file " + file + "; run with -Dgolden.update=true and review it");
            }
            assertEquals(Files.readString(file, StandardCharsets.UTF_8), actual, "golden " + name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
