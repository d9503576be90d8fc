package io.sourcemesh.proxy.config;

import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * One YAML (or JSON, which YAML reads too) document as SnakeYAML's node tree: only its scanner,
 * parser and composer, none of its object construction. A repeated key is refused, not overridden.
 */
final class YamlTree {

    private YamlTree() {}

    /** The document's root node, or null when the text holds none. */
    static Node parse(String text) {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(Integer.MAX_VALUE);
        options.setNestingDepthLimit(100);
        Node root;
        try {
            root = new Composer(new ParserImpl(new StreamReader(text), options), new Resolver(), options).getSingleNode();
        } catch (MarkedYAMLException e) {
            throw invalid(e.getProblem(), e.getProblemMark(), e);
        } catch (YAMLException e) {
            throw new ConfigException("bootstrap is not valid YAML or JSON: " + e.getMessage(), e);
        }
        if (root != null) {
            refuseRepeatedKeys(root, Collections.newSetFromMap(new IdentityHashMap<>()));
        }
        return root;
    }

    private static void refuseRepeatedKeys(Node node, Set<Node> seen) {
        if (!seen.add(node)) {
            return; // an alias of a node already looked at
        }
        if (node instanceof MappingNode map) {
            Set<String> keys = new HashSet<>();
            for (NodeTuple t : map.getValue()) {
                if (t.getKeyNode() instanceof ScalarNode key && !keys.add(key.getValue())) {
                    throw invalid("Duplicate field '" + key.getValue() + "'", key.getStartMark(), null);
                }
                refuseRepeatedKeys(t.getValueNode(), seen);
            }
        } else if (node instanceof SequenceNode list) {
            list.getValue().forEach(n -> refuseRepeatedKeys(n, seen));
        }
    }

    private static ConfigException invalid(String problem, Mark mark, Throwable cause) {
        String where = mark == null ? "" : " (line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ")";
        return new ConfigException("bootstrap is not valid YAML or JSON: " + problem + where, cause);
    }
}
