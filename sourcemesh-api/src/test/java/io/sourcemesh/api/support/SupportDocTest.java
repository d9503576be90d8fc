package io.sourcemesh.api.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** SUPPORT.md at the repository root is the table in code, rendered; this fails when it is stale. */
class SupportDocTest {
    private static final Path DOC = Path.of("..", "SUPPORT.md");

    @Test
    void supportMdIsUpToDate() throws IOException {
        String expected = SupportDoc.markdown();
        if (Boolean.getBoolean("sourcemesh.writeSupportDoc")) {
            Files.writeString(DOC, expected, StandardCharsets.UTF_8);
        }
        String actual = Files.exists(DOC) ? Files.readString(DOC, StandardCharsets.UTF_8) : "";
        assertEquals(expected, actual, "SUPPORT.md is out of date: rerun SupportDocTest with -Dsourcemesh.writeSupportDoc=true");
    }
}
