package io.sourcemesh.cluster.netns;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * This JVM's classpath made readable by uid 1337: jars under a private directory (a Maven
 * repository in root's home) are hard-linked (or copied) into one world-readable directory.
 */
final class SidecarClasspath {
    private static final String PREFIX = "sourcemesh-sidecar-cp-";
    private static Path shared;

    private SidecarClasspath() {
    }

    /** The classpath for a sidecar JVM, with surefire's manifest-only jar expanded. */
    static synchronized String forUid1337() {
        List<String> out = new ArrayList<>();
        for (Path entry : entries()) {
            if (readableByOthers(entry) || Files.isDirectory(entry)) {
                out.add(entry.toString());
            } else {
                out.add(link(entry).toString());
            }
        }
        return String.join(File.pathSeparator, out);
    }

    private static List<Path> entries() {
        List<Path> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.isEmpty()) {
                entries.add(Path.of(e).toAbsolutePath());
            }
        }
        if (entries.size() == 1 && entries.getFirst().toString().endsWith(".jar")) {
            // A manifest-only jar (surefire's booter): the real classpath is its Class-Path.
            try (JarFile jar = new JarFile(entries.getFirst().toFile())) {
                String cp = jar.getManifest() == null ? null : jar.getManifest().getMainAttributes().getValue("Class-Path");
                if (cp != null) {
                    URI base = entries.getFirst().toUri();
                    for (String u : cp.trim().split("\\s+")) {
                        entries.add(Path.of(base.resolve(u)));
                    }
                }
            } catch (IOException e) {
                throw new NetnsException("cannot read the classpath jar " + entries.getFirst() + ": " + e.getMessage(), e);
            }
        }
        return entries;
    }

    private static Path link(Path jar) {
        try {
            if (shared == null) {
                removeLeftovers();
                shared = Files.createTempDirectory(PREFIX + ProcessHandle.current().pid() + "-", PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwxr-xr-x")));
                shared.toFile().deleteOnExit();
            }
            Path target = shared.resolve(Integer.toHexString(jar.getParent().toString().hashCode()) + "-" + jar.getFileName());
            if (!Files.exists(target)) {
                // A hard link shares the file's own mode, and the mode of someone else's file is not ours to
                // change: link only a file others may read, copy any other.
                boolean linked = false;
                if (Files.getPosixFilePermissions(jar).contains(PosixFilePermission.OTHERS_READ)) {
                    try {
                        Files.createLink(target, jar);
                        linked = true;
                    } catch (IOException | UnsupportedOperationException e) {
                        // Another file system, or protected hard links: copy.
                    }
                }
                if (!linked) {
                    Files.copy(jar, target, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
                }
                target.toFile().deleteOnExit();
            }
            return target;
        } catch (IOException e) {
            throw new NetnsException("cannot make " + jar + " readable for the sidecar: " + e.getMessage(), e);
        }
    }

    /**
     * The directories of JVMs that ended without their exit hooks (a daemon killed with SIGKILL): the
     * PID in the name says whose a directory is, and only a dead owner's goes.
     */
    static void removeLeftovers() {
        removeLeftovers(Path.of(System.getProperty("java.io.tmpdir")));
    }

    static void removeLeftovers(Path tmp) {
        try (Stream<Path> dirs = Files.list(tmp)) {
            for (Path dir : dirs.toList()) {
                String name = dir.getFileName().toString();
                if (!name.startsWith(PREFIX) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                String pid = name.substring(PREFIX.length()).split("-")[0];
                if (!pid.matches("\\d{1,10}") || ProcessHandle.of(Long.parseLong(pid)).isPresent()) {
                    continue;
                }
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                }
                Files.deleteIfExists(dir);
            }
        } catch (IOException | RuntimeException e) {
            // Leftovers stay; ours is made anyway.
        }
    }

    /** Other users can read the file and pass through every directory above it. */
    private static boolean readableByOthers(Path path) {
        try {
            if (!Files.getPosixFilePermissions(path).contains(PosixFilePermission.OTHERS_READ)) {
                return false;
            }
            for (Path dir = path.getParent(); dir != null; dir = dir.getParent()) {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
                if (!perms.contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    return false;
                }
            }
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
