package io.sourcemesh.cluster.exec;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** exec's lookup of the program, which lets it answer as kubectl does when there is none. */
class ProcessesTest {
    @Test
    void execLooksUpTheProgramAsExecvpDoes(@TempDir Path dir) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path tool = Files.writeString(bin.resolve("tool"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path data = Files.writeString(bin.resolve("data"), "");
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rw-r--r--"));
        Files.createDirectories(bin.resolve("dir"));
        Path cwd = Files.createDirectories(dir.resolve("cwd"));
        String path = "/nonexistent:" + bin;
        assertTrue(Processes.onPath("tool", path, cwd));
        assertTrue(Processes.onPath(tool.toString(), "", cwd));
        assertTrue(Processes.onPath("../bin/tool", "", cwd));
        assertFalse(Processes.onPath("no-such-program", path, cwd));
        assertFalse(Processes.onPath("dir", path, cwd));
        assertFalse(Processes.onPath("./tool", path, cwd), "a path is not looked up in PATH");
        assertFalse(Processes.onPath("", path, cwd));
        assertTrue(Processes.onPath("tool", "", bin), "an empty PATH entry is the working directory");
        assertFalse(Processes.onPath("data", path, cwd), "no x bit (not even for root)");
    }
}
