package io.sourcemesh.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Which build a JVM runs: the JDK and every file on its class path, each by real path, size, time
 * and file identity (a rebuild writes a new file). The daemon takes its own at start and answers a
 * launcher's verb only when the launcher's class path and JDK give the same: a daemon started from an
 * older build, another checkout or another JDK is never used in place of a fresh JVM.
 */
record BuildId(String text) {

    /** The build of {@code classPath} (as {@code -cp} takes it, {@code dir/*} included) on the JDK at {@code javaHome}. */
    static BuildId of(String classPath, String javaHome) {
        TreeSet<String> files = new TreeSet<>();
        for (String entry : classPath.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            for (Path p : expand(entry)) {
                files.add(fingerprint(p));
            }
        }
        List<String> parts = new ArrayList<>();
        parts.add("java " + realPath(Path.of(javaHome)));
        parts.addAll(files);
        return new BuildId(String.join("\n", parts));
    }

    /** This JVM's build. */
    static BuildId current() {
        return of(System.getProperty("java.class.path"), System.getProperty("java.home"));
    }

    // `dir/*` as the java launcher expands it: the directory's .jar and .JAR files
    private static List<Path> expand(String entry) {
        if (!entry.equals("*") && !entry.endsWith(File.separator + "*")) {
            return List.of(Path.of(entry));
        }
        Path dir = Path.of(entry.substring(0, entry.length() - 1).isEmpty() ? "." : entry.substring(0, entry.length() - 1));
        List<Path> jars = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                if ((name.endsWith(".jar") || name.endsWith(".JAR")) && !Files.isDirectory(p)) {
                    jars.add(p);
                }
            }
        } catch (IOException e) {
            jars.add(dir.resolve("*")); // a missing directory: not a build any daemon runs
        }
        return jars;
    }

    private static String fingerprint(Path p) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            return realPath(p) + " " + a.size() + " " + a.lastModifiedTime().toMillis() + " " + a.fileKey();
        } catch (IOException e) {
            return p.toAbsolutePath() + " missing";
        }
    }

    private static String realPath(Path p) {
        try {
            return p.toRealPath().toString();
        } catch (IOException e) {
            return p.toAbsolutePath().toString();
        }
    }
}
