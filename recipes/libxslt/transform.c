/* libxslt under WASI: apply a stylesheet that sorts, counts and uses an EXSLT function to a
 * document parsed from memory, and compare the output text. */
#include <stdio.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxslt/transform.h>
#include <libxslt/xsltutils.h>
#include <libexslt/exslt.h>

static const char document[] =
    "<farm><wheel name='scipy'/><wheel name='numpy'/><wheel name='six'/></farm>";
static const char stylesheet[] =
    "<xsl:stylesheet version='1.0' xmlns:xsl='http://www.w3.org/1999/XSL/Transform'"
    " xmlns:str='http://exslt.org/strings' extension-element-prefixes='str'>"
    "<xsl:output method='text'/>"
    "<xsl:template match='/farm'>"
    "<xsl:value-of select='count(wheel)'/><xsl:text>:</xsl:text>"
    "<xsl:for-each select='wheel'><xsl:sort select='@name'/>"
    "<xsl:value-of select='str:padding(1, \" \")'/><xsl:value-of select='@name'/>"
    "</xsl:for-each></xsl:template></xsl:stylesheet>";

int main(void) {
    exsltRegisterAll();
    xmlDocPtr style_doc = xmlReadMemory(stylesheet, (int)strlen(stylesheet), "farm.xsl", NULL, 0);
    xsltStylesheetPtr style = style_doc ? xsltParseStylesheetDoc(style_doc) : NULL;
    xmlDocPtr doc = xmlReadMemory(document, (int)strlen(document), "farm.xml", NULL, 0);
    if (!style || !doc) {
        fprintf(stderr, "parsing failed\n");
        return 1;
    }
    xmlDocPtr result = xsltApplyStylesheet(style, doc, NULL);
    xmlChar *text = NULL;
    int size = 0;
    if (!result || xsltSaveResultToString(&text, &size, result, style) != 0 || !text) {
        fprintf(stderr, "the transformation failed\n");
        return 1;
    }
    if (strcmp((const char *)text, "3: numpy scipy six") != 0) {
        fprintf(stderr, "output: '%s'\n", (const char *)text);
        return 1;
    }
    printf("libxslt %s on libxml2 %s: '%s'\n", xsltEngineVersion, xmlParserVersion,
           (const char *)text);
    xmlFree(text);
    xmlFreeDoc(result);
    xmlFreeDoc(doc);
    xsltFreeStylesheet(style);
    xsltCleanupGlobals();
    xmlCleanupParser();
    return 0;
}
