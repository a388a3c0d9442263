/* libxml2 under WASI: parse a document from memory, evaluate XPath expressions, serialize it
 * back, and read an ISO-8859-1 document through iconv. */
#include <stdio.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

static const char document[] =
    "<?xml version='1.0'?><farm><wheel name='numpy' kind='native'/>"
    "<wheel name='six' kind='pure'/><wheel name='scipy' kind='native'/></farm>";

int main(void) {
    LIBXML_TEST_VERSION
    xmlDocPtr doc = xmlReadMemory(document, (int)strlen(document), "farm.xml", NULL, 0);
    if (!doc) {
        fprintf(stderr, "parse failed\n");
        return 1;
    }
    xmlXPathContextPtr context = xmlXPathNewContext(doc);
    xmlXPathObjectPtr native = xmlXPathEvalExpression(BAD_CAST "//wheel[@kind='native']", context);
    xmlXPathObjectPtr count = xmlXPathEvalExpression(BAD_CAST "count(/farm/wheel)", context);
    if (!native || !native->nodesetval || native->nodesetval->nodeNr != 2 || !count ||
        count->floatval != 3.0) {
        fprintf(stderr, "XPath gave the wrong answer\n");
        return 1;
    }
    xmlChar *second = xmlGetProp(native->nodesetval->nodeTab[1], BAD_CAST "name");
    if (!second || strcmp((const char *)second, "scipy") != 0) {
        fprintf(stderr, "second native wheel: %s\n", second ? (const char *)second : "(none)");
        return 1;
    }
    xmlChar *text = NULL;
    int size = 0;
    xmlDocDumpMemory(doc, &text, &size);
    if (!text || !strstr((const char *)text, "<wheel name=\"six\" kind=\"pure\"/>")) {
        fprintf(stderr, "serialization: %s\n", text ? (const char *)text : "(none)");
        return 1;
    }

    /* "café" in ISO-8859-1: the parser converts it to UTF-8 through iconv. */
    static const char latin1[] = "<?xml version='1.0' encoding='ISO-8859-1'?><w>caf\xe9</w>";
    xmlDocPtr other = xmlReadMemory(latin1, (int)strlen(latin1), "latin1.xml", NULL, 0);
    xmlChar *content = other ? xmlNodeGetContent(xmlDocGetRootElement(other)) : NULL;
    if (!content || strcmp((const char *)content, "caf\xc3\xa9") != 0) {
        fprintf(stderr, "ISO-8859-1 content: %s\n", content ? (const char *)content : "(none)");
        return 1;
    }
    printf("libxml2 %s: XPath found %d native wheels of %.0f, %d bytes serialized, ISO-8859-1 read\n",
           xmlParserVersion, native->nodesetval->nodeNr, count->floatval, size);
    xmlFree(content);
    xmlFreeDoc(other);
    xmlFree(text);
    xmlFree(second);
    xmlXPathFreeObject(count);
    xmlXPathFreeObject(native);
    xmlXPathFreeContext(context);
    xmlFreeDoc(doc);
    xmlCleanupParser();
    return 0;
}
