package io.sourcemesh.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The examples of RFC 6902, Appendix A. */
class JsonPatchTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode apply(String doc, String patch) throws Exception {
        return JsonPatch.apply(JSON.readTree(doc.replace('\'', '"')), JSON.readTree(patch.replace('\'', '"')));
    }

    private static void check(String doc, String patch, String expected) throws Exception {
        assertEquals(JSON.readTree(expected.replace('\'', '"')), apply(doc, patch));
    }

    private static String fails(String doc, String patch) {
        return assertThrows(PatchException.class, () -> apply(doc, patch)).getMessage();
    }

    @Test
    void a1AddObjectMember() throws Exception {
        check("{'foo':'bar'}", "[{'op':'add','path':'/baz','value':'qux'}]", "{'baz':'qux','foo':'bar'}");
    }

    @Test
    void a2AddArrayElement() throws Exception {
        check("{'foo':['bar','baz']}", "[{'op':'add','path':'/foo/1','value':'qux'}]", "{'foo':['bar','qux','baz']}");
    }

    @Test
    void a3RemoveObjectMember() throws Exception {
        check("{'baz':'qux','foo':'bar'}", "[{'op':'remove','path':'/baz'}]", "{'foo':'bar'}");
    }

    @Test
    void a4RemoveArrayElement() throws Exception {
        check("{'foo':['bar','qux','baz']}", "[{'op':'remove','path':'/foo/1'}]", "{'foo':['bar','baz']}");
    }

    @Test
    void a5ReplaceValue() throws Exception {
        check("{'baz':'qux','foo':'bar'}", "[{'op':'replace','path':'/baz','value':'boo'}]", "{'baz':'boo','foo':'bar'}");
    }

    @Test
    void a6MoveValue() throws Exception {
        check("{'foo':{'bar':'baz','waldo':'fred'},'qux':{'corge':'grault'}}",
                "[{'op':'move','from':'/foo/waldo','path':'/qux/thud'}]",
                "{'foo':{'bar':'baz'},'qux':{'corge':'grault','thud':'fred'}}");
    }

    @Test
    void a7MoveArrayElement() throws Exception {
        check("{'foo':['all','grass','cows','eat']}", "[{'op':'move','from':'/foo/1','path':'/foo/3'}]",
                "{'foo':['all','cows','eat','grass']}");
    }

    @Test
    void a8TestSuccess() throws Exception {
        check("{'baz':'qux','foo':['a',2,'c']}",
                "[{'op':'test','path':'/baz','value':'qux'},{'op':'test','path':'/foo/1','value':2}]",
                "{'baz':'qux','foo':['a',2,'c']}");
    }

    @Test
    void a9TestError() {
        assertEquals("test operation failed at \"/baz\": expected \"bar\", found \"qux\"",
                fails("{'baz':'qux'}", "[{'op':'test','path':'/baz','value':'bar'}]"));
    }

    @Test
    void a10AddNestedMember() throws Exception {
        check("{'foo':'bar'}", "[{'op':'add','path':'/child','value':{'grandchild':{}}}]",
                "{'foo':'bar','child':{'grandchild':{}}}");
    }

    @Test
    void a11IgnoreUnrecognizedElements() throws Exception {
        check("{'foo':'bar'}", "[{'op':'add','path':'/baz','value':'qux','xyz':123}]", "{'foo':'bar','baz':'qux'}");
    }

    @Test
    void a12AddToNonexistentTarget() {
        assertEquals("add operation: path \"/baz\" does not exist",
                fails("{'foo':'bar'}", "[{'op':'add','path':'/baz/bat','value':'qux'}]"));
    }

    @Test
    void a14EscapeOrdering() throws Exception {
        check("{'/':9,'~1':10}", "[{'op':'test','path':'/~01','value':10}]", "{'/':9,'~1':10}");
    }

    @Test
    void a15ComparingStringsAndNumbers() {
        assertEquals("test operation failed at \"/~01\": expected \"10\", found 10",
                fails("{'/':9,'~1':10}", "[{'op':'test','path':'/~01','value':'10'}]"));
    }

    @Test
    void a16AddArrayValue() throws Exception {
        check("{'foo':['bar']}", "[{'op':'add','path':'/foo/-','value':['abc','def']}]", "{'foo':['bar',['abc','def']]}");
    }

    @Test
    void copyAndClearErrors() throws Exception {
        check("{'a':{'b':1}}", "[{'op':'copy','from':'/a','path':'/c'}]", "{'a':{'b':1},'c':{'b':1}}");
        assertEquals("remove operation: path \"/nope\" does not exist", fails("{}", "[{'op':'remove','path':'/nope'}]"));
        assertEquals("replace operation: path \"/a/5\" does not exist", fails("{'a':[1]}", "[{'op':'replace','path':'/a/5','value':1}]"));
        assertEquals("add operation: index \"5\" is out of bounds in \"/a/5\"", fails("{'a':[1]}", "[{'op':'add','path':'/a/5','value':1}]"));
        assertEquals("operation 0: unknown op \"frob\"", fails("{}", "[{'op':'frob','path':'/a'}]"));
        assertEquals("operation 0 (add) is missing \"value\"", fails("{}", "[{'op':'add','path':'/a'}]"));
        assertEquals("operation 0 (move) is missing \"from\"", fails("{}", "[{'op':'move','path':'/a'}]"));
        assertEquals("invalid JSON pointer \"a\": must be empty or start with \"/\"", fails("{}", "[{'op':'add','path':'a','value':1}]"));
        assertEquals("move operation: cannot move \"/a\" into its own child \"/a/b\"",
                fails("{'a':{}}", "[{'op':'move','from':'/a','path':'/a/b'}]"));
    }

    @Test
    void failingPatchChangesNothing() throws Exception {
        JsonNode doc = JSON.readTree("{\"a\":1}");
        assertThrows(PatchException.class, () -> JsonPatch.apply(doc,
                JSON.readTree("[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},{\"op\":\"remove\",\"path\":\"/x\"}]")));
        assertEquals(JSON.readTree("{\"a\":1}"), doc);
    }
}
