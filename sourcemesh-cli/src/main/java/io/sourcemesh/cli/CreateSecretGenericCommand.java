package io.sourcemesh.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code create secret generic NAME [--from-file=[key=]source]... [--from-literal=key=value]... [--type=TYPE]}, as
 * kubectl makes it: e.g. a MUTUAL gateway's clients' CA ({@code --from-file=ca.crt=client-ca.pem}) or a credential with
 * its CA beside the key pair. A directory source adds each regular file under its name; keys are kubectl's valid
 * config keys, each once.
 */
@Command(name = "generic", description = "Create a secret from files, directories or literal values.")
final class CreateSecretGenericCommand implements Callable<Integer> {
    /** kubectl's IsConfigMapKey: alphanumerics, '-', '_' or '.'. */
    private static final Pattern KEY = Pattern.compile("[-._a-zA-Z0-9]+");

    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--from-file", paramLabel = "[KEY=]SOURCE")
    List<String> fromFile = new ArrayList<>();

    @Option(names = "--from-literal", paramLabel = "KEY=VALUE")
    List<String> fromLiteral = new ArrayList<>();

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "Opaque")
    String type;

    @Override
    public Integer call() {
        Map<String, byte[]> data = new LinkedHashMap<>();
        for (String source : fromFile) {
            int eq = source.indexOf('=');
            if (eq == 0) {
                throw CliException.error("key names or file paths cannot contain '='");
            }
            Path path = Path.of(eq < 0 ? source : source.substring(eq + 1));
            if (eq < 0 && Files.isDirectory(path)) {
                try (Stream<Path> files = Files.list(path)) {
                    for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                        put(data, f.getFileName().toString(), read(f));
                    }
                } catch (IOException e) {
                    throw CliException.error("error reading " + path + ": " + e.getMessage());
                }
            } else if (Files.isDirectory(path)) {
                throw CliException.error("cannot give a key name for a directory path");
            } else {
                put(data, eq < 0 ? path.getFileName().toString() : source.substring(0, eq), read(path));
            }
        }
        for (String literal : fromLiteral) {
            int eq = literal.indexOf('=');
            if (eq <= 0) {
                throw CliException.error("invalid literal source " + literal + ", expected key=value");
            }
            put(data, literal.substring(0, eq), literal.substring(eq + 1).getBytes(StandardCharsets.UTF_8));
        }
        ObjectNode secret = JsonNodeFactory.instance.objectNode();
        secret.put("apiVersion", "v1").put("kind", "Secret");
        secret.putObject("metadata").put("name", name).put("namespace", cluster.namespace());
        secret.put("type", type);
        ObjectNode out = secret.putObject("data");
        data.forEach((k, v) -> out.put(k, Base64.getEncoder().encodeToString(v)));
        KubeObject created = cluster.api().create(KubeObject.of(secret));
        spec.commandLine().getOut().println("secret/" + created.name() + " created");
        return 0;
    }

    private void put(Map<String, byte[]> data, String key, byte[] value) {
        if (!KEY.matcher(key).matches()) {
            throw CliException.error("\"" + key + "\" is not a valid key name for a Secret: a valid config key must consist of "
                    + "alphanumeric characters, '-', '_' or '.'");
        }
        if (data.putIfAbsent(key, value) != null) {
            throw CliException.error("cannot add key " + key + ", another key by that name already exists in Data for Secret \""
                    + name + "\"");
        }
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw CliException.error("open " + file + ": no such file or directory");
        } catch (IOException e) {
            throw CliException.error("open " + file + ": " + e.getMessage());
        }
    }
}
