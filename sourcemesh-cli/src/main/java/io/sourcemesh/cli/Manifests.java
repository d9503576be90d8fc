package io.sourcemesh.cli;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The objects of {@code -f FILE|DIR|-} (repeatable), read all-or-nothing and placed in the namespace as kubectl does. */
final class Manifests {
    private Manifests() {}

    static List<KubeObject> read(List<String> files, InputStream stdin, ClusterOptions cluster) {
        if (files.isEmpty()) {
            throw CliException.error("must specify one of -f and -k");
        }
        List<KubeObject> objects = new ArrayList<>();
        List<Path> paths = new ArrayList<>();
        for (String f : files) {
            if (f.equals("-")) {
                objects.addAll(ManifestReader.read(ManifestReader.STDIN, stdin));
            } else {
                paths.add(Path.of(f));
            }
        }
        if (!paths.isEmpty()) {
            objects.addAll(ManifestReader.readAll(paths));
        }
        if (objects.isEmpty()) {
            throw CliException.error("no objects passed to apply");
        }
        return ManifestReader.inNamespace(objects, cluster.namespace(), cluster.explicitNamespace());
    }
}
