import FleetCore
import PolicyEngine
import Testing

private typealias V = ExpressionValueCase
private typealias E = ExpressionErrorCase

/// Context functions, property and index access, and the logical functions.
private let contextAndLogicCases: [ExpressionValueCase] = [
    V("[parameters('clusterName')]", #""aks-weu-01""#),
    V("[parameters('CLUSTERNAME')]", #""aks-weu-01""#),
    // Three built-ins reference the parameter in another case than it is declared.
    V("[parameters('repositoryhttpsCACert')]", #""cert""#),
    V("[parameters('nothing')]", "null"),
    V("[variables('prefix')]", #""ff-""#),
    V("[field('name')]", #""aks-weu-01""#),
    V("[field('tags[''env'']')]", #""prod""#),
    V("[field('properties.missing')]", #""""#),
    V("[field('properties.items[*].name')]", "[]"),
    V("[current()]", "7"),
    V("[current('i')]", #""item""#),
    V("[resourceGroup().name]", #""rg-fleet""#),
    V("[resourceGroup()['location']]", #""westeurope""#),
    V("[subscription().subscriptionId]", #""sub-1""#),
    V("[parameters('obj').a.b[1].c]", #""deep""#),
    V("[parameters('obj')['a']['b'][0]]", "10"),
    V("[parameters('obj').name]", #""x""#),
    V("[createArray('x', 'y')[1]]", #""y""#),
    V("[json('[[1, 2]]')[0][1]]", "2"),
    V("[true()]", "true"),
    V("[false()]", "false"),
    V("[null()]", "null"),
    V("[if(true(), 'yes', 'no')]", #""yes""#),
    V("[if(false(), 'yes', 'no')]", #""no""#),
    V("[if(equals(1, 1), 1, 2)]", "1"),
    V("[equals('a', 'a')]", "true"),
    V("[equals('a', 'A')]", "false"),
    V("[equals(1, json('1.0'))]", "true"),
    V("[equals('1', 1)]", "false"),
    V("[equals(null(), null())]", "true"),
    V("[equals(parameters('list'), createArray(1, 2, 3))]", "true"),
    V("[equals(parameters('list'), createArray(3, 2, 1))]", "false"),
    V(#"[equals(json('{"a": [1]}'), createObject('a', createArray(1)))]"#, "true"),
    V("[and(true(), true())]", "true"),
    V("[and(true(), true(), false())]", "false"),
    V("[or(false(), false())]", "false"),
    V("[or(false(), false(), true())]", "true"),
    V("[not(parameters('flag'))]", "false"),
    V("[not(false())]", "true"),
    V("[bool('TRUE')]", "true"),
    V("[bool('false')]", "false"),
    V("[bool('yes')]", "false"),
    V("[bool(0)]", "false"),
    V("[bool(-2)]", "true"),
    V("[bool(true())]", "true"),
    V("[coalesce(null(), parameters('nothing'), 'x', 'y')]", #""x""#),
    V("[coalesce(null())]", "null"),
    V("[less(1, 2)]", "true"),
    V("[less(2, 2)]", "false"),
    V("[lessOrEquals(2, 2)]", "true"),
    V("[greater('b', 'a')]", "true"),
    V("[greater('B', 'a')]", "false"),
    V("[greaterOrEquals(1, 2)]", "false"),
    V("[greaterOrEquals(json('2.5'), 2)]", "true"),
    V("[less('2024-01-31', '2024-02-01')]", "true"),
]

/// Strings, conversions and formatting.
private let stringCases: [ExpressionValueCase] = [
    V("[concat('a', 'b', 'c')]", #""abc""#),
    V("[concat('only')]", #""only""#),
    V("[concat('vm', 1, '-', true())]", #""vm1-True""#),
    V("[concat(parameters('list'), createArray(4), json('[]'))]", "[1, 2, 3, 4]"),
    V("[contains('Microsoft.Kubernetes/connectedClusters', 'connectedClusters')]", "true"),
    V("[contains('Microsoft.Kubernetes/connectedClusters', 'connectedclusters')]", "false"),
    V("[contains('abc123', 123)]", "true"),
    V("[contains('abc', '')]", "true"),
    V("[contains(parameters('obj'), 'NAME')]", "true"),
    V("[contains(parameters('obj'), 'zzz')]", "false"),
    V("[contains(parameters('list'), 2)]", "true"),
    V("[contains(parameters('list'), '2')]", "false"),
    V("[toLower('MiXeD Ä')]", #""mixed ä""#),
    V("[toUpper('straße')]", #""STRAßE""#),
    V("[json('null')]", "null"),
    V("[json(' 42 ')]", "42"),
    V("[json('1.5')]", "1.5"),
    V(#"[json('"s"')]"#, #""s""#),
    V(#"[json('{"a": [1, true]}')]"#, #"{"a": [1, true]}"#),
    V("[string(1)]", #""1""#),
    V("[string(-7)]", #""-7""#),
    V("[string(true())]", #""True""#),
    V("[string(false())]", #""False""#),
    V("[string('s')]", #""s""#),
    V("[string(null())]", #""""#),
    V("[string(parameters('list'))]", #""[1,2,3]""#),
    V(#"[string(json('{"b": 1, "a": "x"}'))]"#, #""{\"a\":\"x\",\"b\":1}""#),
    V("[int('42')]", "42"),
    V("[int(' -7 ')]", "-7"),
    V("[int('+5')]", "5"),
    V("[int(5)]", "5"),
    V("[int(json('3.0'))]", "3"),
    V("[length('héllo')]", "5"),
    V("[length('😀')]", "2"),
    V("[length('')]", "0"),
    V("[length(parameters('list'))]", "3"),
    V("[length(parameters('obj'))]", "2"),
    V("[split('a,b,,c', ',')]", #"["a", "b", "", "c"]"#),
    V("[split('a;b,c', createArray(',', ';'))]", #"["a", "b", "c"]"#),
    V("[split('a::b', '::')]", #"["a", "b"]"#),
    V("[split('abc', '|')]", #"["abc"]"#),
    V("[split('', ',')]", #"[""]"#),
    V("[join(createArray('a', 'b', 1), '-')]", #""a-b-1""#),
    V("[replace('Contoso.net web app.net', '.net', '.com')]", #""Contoso.com web app.com""#),
    V("[replace('AaA', 'a', 'x')]", #""AxA""#),
    V("[replace('aaa', 'aa', 'b')]", #""ba""#),
    V("[substring('Contoso.com web app', 12, 3)]", #""web""#),
    V("[substring('hello', 2)]", #""llo""#),
    V("[substring('hello', 5)]", #""""#),
    V("[substring('hello', 0, 0)]", #""""#),
    V("[startsWith('abcdef', 'AB')]", "true"),
    V("[startsWith('abc', 'bc')]", "false"),
    V("[startsWith('abc', '')]", "true"),
    V("[endsWith('abcdef', 'DEF')]", "true"),
    V("[endsWith('ab', 'abc')]", "false"),
    V("[indexOf('test', 'T')]", "0"),
    V("[indexOf('abcdef', 'CD')]", "2"),
    V("[indexOf('abc', 'z')]", "-1"),
    V("[indexOf('abc', '')]", "0"),
    V("[lastIndexOf('test', 't')]", "3"),
    V("[lastIndexOf('abcabc', 'BC')]", "4"),
    V("[lastIndexOf('abc', 'z')]", "-1"),
    V("[trim('  x y \t')]", #""x y""#),
    V("[trim('   ')]", #""""#),
    V("[padLeft('123', 5, '0')]", #""00123""#),
    V("[padLeft(7, 3, '0')]", #""007""#),
    V("[padLeft('abc', 2)]", #""abc""#),
    V("[padLeft('a', 3)]", #""  a""#),
    V("[format('{0}-{1}', 'a', 2)]", #""a-2""#),
    V("[format('{0,5}|{1,-4}|', 'ab', 'c')]", #""   ab|c   |""#),
    V("[format('{{x}} {0:D3}', 7)]", #""{x} 007""#),
    V("[format('{0:N2}', 1234567)]", #""1,234,567.00""#),
    V("[format('{0:N0}', -1234)]", #""-1,234""#),
    V("[format('{0:F1}', json('2.25'))]", #""2.3""#),
    V("[format('{0:X}', 255)]", #""FF""#),
    V("[format('{0:x4}', 255)]", #""00ff""#),
    V("[format('{0} is {1}', 'flag', true())]", #""flag is True""#),
    V("[format('no items')]", #""no items""#),
]

/// Arrays, objects and numbers.
private let collectionAndNumberCases: [ExpressionValueCase] = [
    V("[empty('')]", "true"),
    V("[empty(' ')]", "false"),
    V("[empty(createArray())]", "true"),
    V("[empty(json('{}'))]", "true"),
    V("[empty(parameters('nothing'))]", "true"),
    V("[empty(parameters('list'))]", "false"),
    V("[empty(parameters('obj'))]", "false"),
    V("[first(parameters('list'))]", "1"),
    V("[last(parameters('list'))]", "3"),
    V("[first('abc')]", #""a""#),
    V("[last('abc')]", #""c""#),
    V("[first(createArray())]", "null"),
    V("[last('')]", #""""#),
    V("[union(createArray(1, 2), createArray(2, 3), createArray(1))]", "[1, 2, 3]"),
    V(
        #"[union(json('{"a": 1, "n": {"x": 1}}'), json('{"b": 2, "n": {"y": 2}}'))]"#,
        #"{"a": 1, "b": 2, "n": {"x": 1, "y": 2}}"#),
    V("[union(createObject('a', 1), createObject('a', 2))]", #"{"a": 2}"#),
    V("[intersection(createArray(1, 2, 3, 2), createArray(3, 2, 9))]", "[2, 3]"),
    V(#"[intersection(json('{"a": 1, "b": 2}'), json('{"a": 1, "b": 3}'))]"#, #"{"a": 1}"#),
    V("[createObject('a', 1, 'b', createArray('x'))]", #"{"a": 1, "b": ["x"]}"#),
    V("[createObject()]", "{}"),
    V("[createObject('k', null())]", #"{"k": null}"#),
    V("[createArray(1, 'two', null())]", #"[1, "two", null]"#),
    V("[createArray()]", "[]"),
    V("[array('x')]", #"["x"]"#),
    V("[array(parameters('list'))]", "[1, 2, 3]"),
    V("[array(createObject('a', 1))]", #"[{"a": 1}]"#),
    V("[take(parameters('list'), 2)]", "[1, 2]"),
    V("[take(parameters('list'), 10)]", "[1, 2, 3]"),
    V("[take(parameters('list'), -1)]", "[]"),
    V("[take('abcdef', 3)]", #""abc""#),
    V("[skip(parameters('list'), 1)]", "[2, 3]"),
    V("[skip(parameters('list'), 0)]", "[1, 2, 3]"),
    V("[skip('abcdef', 4)]", #""ef""#),
    V("[skip('abc', 10)]", #""""#),
    V("[min(3, 1, 2)]", "1"),
    V("[max(parameters('list'))]", "3"),
    V("[min(createArray(5, -2), 0)]", "-2"),
    V("[max(7)]", "7"),
    V("[range(1, 3)]", "[1, 2, 3]"),
    V("[range(-1, 0)]", "[]"),
    V("[add(1, 2)]", "3"),
    V("[add(parameters('count'), -5)]", "-2"),
    V("[sub(1, 5)]", "-4"),
    V("[mul(-3, 4)]", "-12"),
    V("[div(7, 2)]", "3"),
    V("[div(-7, 2)]", "-3"),
    V("[mod(7, 3)]", "1"),
    V("[mod(-7, 3)]", "-1"),
]

/// Dates, encodings and identity functions.
private let dateAndEncodingCases: [ExpressionValueCase] = [
    V("[utcNow()]", #""2024-02-29T13:45:30.1234567Z""#),
    V("[utcNow('yyyyMMddTHHmmssZ')]", #""20240229T134530Z""#),
    V("[utcNow('u')]", #""2024-02-29 13:45:30Z""#),
    V("[utcNow('o')]", #""2024-02-29T13:45:30.1234567Z""#),
    V("[utcNow('yyyy-MM-dd')]", #""2024-02-29""#),
    V("[utcNow('dddd, MMM d, yyyy h:mm tt')]", #""Thursday, Feb 29, 2024 1:45 PM""#),
    V("[utcNow('HH:mm:ss.fff')]", #""13:45:30.123""#),
    V("[addDays('2024-02-28T10:00:00Z', 1)]", #""2024-02-29T10:00:00Z""#),
    V("[addDays('2024-03-01', -1)]", #""2024-02-29""#),
    V("[addDays('2023-12-31T23:59:59.5Z', 1)]", #""2024-01-01T23:59:59.5000000Z""#),
    V("[addDays('2024-01-01T01:00:00+02:00', 0)]", #""2023-12-31T23:00:00Z""#),
    V("[addDays(utcNow(), 1)]", #""2024-03-01T13:45:30.1234567Z""#),
    V("[dateTimeAdd('2020-04-07 14:53:14Z', 'P3Y')]", #""2023-04-07T14:53:14Z""#),
    V("[dateTimeAdd('2024-01-31T00:00:00Z', 'P1M')]", #""2024-02-29T00:00:00Z""#),
    V("[dateTimeAdd('2024-01-01T00:00:00Z', 'PT1H30M')]", #""2024-01-01T01:30:00Z""#),
    V("[dateTimeAdd('2024-01-01T00:00:00Z', '-P1D')]", #""2023-12-31T00:00:00Z""#),
    V("[dateTimeAdd('2024-01-01', 'P1W')]", #""2024-01-08""#),
    V("[dateTimeAdd('2024-01-01', 'PT12H')]", #""2024-01-01T12:00:00Z""#),
    V("[dateTimeAdd('2024-01-01T00:00:00Z', 'PT0.5S', 'yyyy-MM-ddTHH:mm:ss.fff')]", #""2024-01-01T00:00:00.500""#),
    V("[dateTimeAdd(utcNow(), 'P1D', 'yyyy-MM-dd')]", #""2024-03-01""#),
    V("[dateTimeAdd('20240229T134530Z', 'P1Y', 's')]", #""2025-02-28T13:45:30""#),
    V("[base64('one, two, three')]", #""b25lLCB0d28sIHRocmVl""#),
    V("[base64('ab')]", #""YWI=""#),
    V("[base64('')]", #""""#),
    V("[base64ToString('b25lLCB0d28sIHRocmVl')]", #""one, two, three""#),
    V("[base64ToString('YWI=')]", #""ab""#),
    V("[base64ToString(base64('héllo ✓'))]", #""héllo ✓""#),
    V("[base64ToJson('eyJhIjoxfQ==')]", #"{"a": 1}"#),
    V(
        "[uri('http://contoso.com/resources/', 'nested/azuredeploy.json')]",
        #""http://contoso.com/resources/nested/azuredeploy.json""#),
    V("[uri('http://contoso.com/resources/x.json', 'y.json')]", #""http://contoso.com/resources/y.json""#),
    V("[uri('http://contoso.com/a/b', '/c')]", #""http://contoso.com/c""#),
    V("[uri('http://contoso.com/a/b/', '../c?x=1')]", #""http://contoso.com/a/c?x=1""#),
    V("[uri('http://contoso.com', 'c')]", #""http://contoso.com/c""#),
    V("[uri('http://contoso.com/a', 'https://other.org/b')]", #""https://other.org/b""#),
    V("[uriComponent('a b/c?d=é')]", #""a%20b%2Fc%3Fd%3D%C3%A9""#),
    V("[uriComponentToString('a%20b%2Fc%3Fd%3D%C3%A9')]", #""a b/c?d=é""#),
    // Name-based UUIDs (v5); expected values computed independently with Python's uuid.uuid5.
    V("[guid('a', 'b')]", #""2d796349-8c7e-55ec-9624-54ece82ed031""#),
    V("[guid('hello')]", #""520f8434-fe3a-5d99-888d-450a827486a1""#),
    V("[guid(subscription().subscriptionId)]", #""dacac571-901d-5c5d-a266-362cdc5fb615""#),
]

private let functionErrorCases: [ExpressionErrorCase] = [
    E("[toLower(1)]", at: 1, "'toLower' expects argument 1 to be a string, got an int"),
    E("[toUpper(null())]", at: 1, "'toUpper' expects argument 1 to be a string, got null"),
    E(
        "[concat('a', createArray())]", at: 1,
        "'concat' expects argument 2 to be a string, an int or a bool (the first argument is not an array), got an array"
    ),
    E("[concat(createArray(), 'a')]", at: 1, "'concat' expects argument 2 to be an array, got a string"),
    E("[contains(1, 1)]", at: 1, "'contains' expects argument 1 to be a string, an array or an object, got an int"),
    E("[contains(createObject('a', 1), 1)]", at: 1, "'contains' expects argument 2 to be a string, got an int"),
    E(
        "[contains('abc', createArray())]", at: 1,
        "'contains' expects argument 2 to be a string when the container is a string, got an array"),
    E("[empty(1)]", at: 1, "'empty' expects argument 1 to be a string, an array or an object, got an int"),
    E("[length(true())]", at: 1, "'length' expects argument 1 to be a string, an array or an object, got a bool"),
    E("[first(1)]", at: 1, "'first' expects argument 1 to be a string or an array, got an int"),
    E("[last(null())]", at: 1, "'last' expects argument 1 to be a string or an array, got null"),
    E("[json(1)]", at: 1, "'json' expects argument 1 to be a string, got an int"),
    E("[int('abc')]", at: 1, "'int' cannot convert 'abc' to an int"),
    E("[int(json('1.5'))]", at: 1, "'int' cannot convert 1.5 to an int"),
    E("[int(true())]", at: 1, "'int' expects argument 1 to be a string or an int, got a bool"),
    E("[bool(createArray())]", at: 1, "'bool' expects argument 1 to be a string or an int, got an array"),
    E("[split(1, ',')]", at: 1, "'split' expects argument 1 to be a string, got an int"),
    E("[split('a', 1)]", at: 1, "'split' expects argument 2 to be a string or an array of strings, got an int"),
    E("[join('a', ',')]", at: 1, "'join' expects argument 1 to be an array, got a string"),
    E("[replace('a', '', 'b')]", at: 1, "'replace' cannot replace an empty string"),
    E(
        "[substring('abc', 1, 5)]", at: 1,
        "'substring' length 5 from index 1 runs past the end of the string (length 3)"),
    E("[substring('abc', -1)]", at: 1, "'substring' start index -1 is outside the string (length 3)"),
    E("[substring('abc', 4)]", at: 1, "'substring' start index 4 is outside the string (length 3)"),
    E("[startsWith('a', 1)]", at: 1, "'startsWith' expects argument 2 to be a string, got an int"),
    E("[endsWith(1, 'a')]", at: 1, "'endsWith' expects argument 1 to be a string, got an int"),
    E("[indexOf(1, 'a')]", at: 1, "'indexOf' expects argument 1 to be a string, got an int"),
    E("[lastIndexOf('a', null())]", at: 1, "'lastIndexOf' expects argument 2 to be a string, got null"),
    E("[trim(1)]", at: 1, "'trim' expects argument 1 to be a string, got an int"),
    E("[padLeft('a', 3, 'xy')]", at: 1, "'padLeft' expects a single padding character, got 2"),
    E("[padLeft(true(), 3)]", at: 1, "'padLeft' expects argument 1 to be a string or an int, got a bool"),
    E("[format('{2}', 'a')]", at: 1, "'format' refers to {2} but has only 1 value(s) to format"),
    E("[format('{0', 'a')]", at: 1, "'format' has an unmatched '{'"),
    E("[format('a}b')]", at: 1, "'format' has an unmatched '}'"),
    E("[format('{0:Q}', 1)]", at: 1, "'format' has an unsupported format 'Q' for an int"),
    E("[union(createArray(), createObject())]", at: 1, "'union' expects argument 2 to be an array, got an object"),
    E("[union(1, 2)]", at: 1, "'union' expects argument 1 to be an array or an object, got an int"),
    E("[intersection(createArray(), 1)]", at: 1, "'intersection' expects argument 2 to be an array, got an int"),
    E("[createObject('a')]", at: 1, "'createObject' expects an even number of arguments (key, value pairs), got 1"),
    E("[createObject(1, 'a')]", at: 1, "'createObject' expects argument 1 to be a string, got an int"),
    E("[take('abc', 'x')]", at: 1, "'take' expects argument 2 to be an int, got a string"),
    E("[skip(1, 1)]", at: 1, "'skip' expects argument 1 to be a string or an array, got an int"),
    E("[min(createArray())]", at: 1, "'min' needs at least one value"),
    E("[max('a')]", at: 1, "'max' expects argument 1 to be an int or an array of ints, got a string"),
    E("[max(createArray(1, 'a'))]", at: 1, "'max' expects arrays of ints, found a string in argument 1"),
    E("[range(0, 10001)]", at: 1, "'range' expects a count between 0 and 10000, got 10001"),
    E("[add('1', 2)]", at: 1, "'add' expects argument 1 to be an int, got a string"),
    E("[add(9223372036854775807, 1)]", at: 1, "'add' overflows a 64-bit integer"),
    E("[mul(9223372036854775807, 2)]", at: 1, "'mul' overflows a 64-bit integer"),
    E("[div(1, 0)]", at: 1, "'div' cannot divide by zero"),
    E("[mod(1, 0)]", at: 1, "'mod' cannot divide by zero"),
    E("[less(true(), false())]", at: 1, "'less' can only compare two ints or two strings, got a bool and a bool"),
    E("[greater('a', 1)]", at: 1, "'greater' can only compare two ints or two strings, got a string and an int"),
    E("[addDays('yesterday', 1)]", at: 1, "'addDays' expects an ISO-8601 date-time, got 'yesterday'"),
    E("[addDays('2023-02-29', 1)]", at: 1, "'addDays' expects an ISO-8601 date-time, got '2023-02-29'"),
    E("[addDays('2024-01-01', 'x')]", at: 1, "'addDays' expects argument 2 to be an int, got a string"),
    E(
        "[dateTimeAdd('2024-01-01', '1D')]", at: 1,
        "'dateTimeAdd' expects an ISO-8601 duration such as 'P1D' or 'PT1H', got '1D'"),
    E(
        "[dateTimeAdd('2024-01-01', 'PT')]", at: 1,
        "'dateTimeAdd' expects an ISO-8601 duration such as 'P1D' or 'PT1H', got 'PT'"),
    E("[dateTimeAdd('9999-12-31', 'P1D')]", at: 1, "'dateTimeAdd' produces a date outside years 1 to 9999"),
    E("[dateTimeAdd('2024-01-01', 'P1D', 'q')]", at: 1, "'dateTimeAdd' has an unsupported date format 'q'"),
    E("[utcNow('q')]", at: 1, "'utcNow' has an unsupported date format 'q'"),
    E("[utcNow(1)]", at: 1, "'utcNow' expects argument 1 to be a string, got an int"),
    E("[base64ToString('!!')]", at: 1, "'base64ToString' expects valid base64 text"),
    E("[base64ToString('/w==')]", at: 1, "'base64ToString' decoded bytes that are not valid UTF-8"),
    E("[base64(1)]", at: 1, "'base64' expects argument 1 to be a string, got an int"),
    E("[uri('relative/path', 'x')]", at: 1, "'uri' expects an absolute base URI, got 'relative/path'"),
    E("[uriComponentToString('%zz')]", at: 1, "'uriComponentToString' found an invalid percent escape at byte 0"),
    E("[uniqueString(1)]", at: 1, "'uniqueString' expects argument 1 to be a string, got an int"),
    E("[guid('a', createArray())]", at: 1, "'guid' expects argument 2 to be a string, got an array"),
    E("[parameters(1)]", at: 1, "'parameters' expects argument 1 to be a string, got an int"),
    E("[field(1)]", at: 1, "'field' expects argument 1 to be a string, got an int"),
    E("[concat('a', parameters('missing'))]", at: 13, "parameter 'missing' is not defined"),
    E("[variables('nope')]", at: 1, "variable 'nope' is not defined"),
    E("[current('j')]", at: 1, "'current' is used outside a count loop named 'j'"),
    E("[if('yes', 1, 2)]", at: 1, "'if' expects argument 1 to be a bool, got a string"),
    E("[and(true(), 1)]", at: 1, "'and' expects argument 2 to be a bool, got an int"),
    E("[or(false(), 'x')]", at: 1, "'or' expects argument 2 to be a bool, got a string"),
    E("[not(1)]", at: 1, "'not' expects argument 1 to be a bool, got an int"),
    E("[not('true')]", at: 1, "'not' expects argument 1 to be a bool, got a string"),
    // Argument counts.
    E("[equals(1)]", at: 1, "'equals' expects 2 arguments, got 1"),
    E("[equals(1, 2, 3)]", at: 1, "'equals' expects 2 arguments, got 3"),
    E("[if(true(), 'a')]", at: 1, "'if' expects 3 arguments, got 2"),
    E("[true(1)]", at: 1, "'true' takes no arguments, got 1"),
    E("[concat()]", at: 1, "'concat' expects at least 1 argument, got 0"),
    E("[and(true())]", at: 1, "'and' expects at least 2 arguments, got 1"),
    E("[substring('a')]", at: 1, "'substring' expects 2 to 3 arguments, got 1"),
    E("[NOT(true(), false())]", at: 1, "'not' expects 1 argument, got 2"),
    // Property and index access.
    E("[parameters('obj').missing]", at: 18, "the object has no property 'missing' (it has 'Name', 'a')"),
    E("[createObject().x]", at: 15, "the object has no property 'x' (it is empty)"),
    E("[parameters('text').length]", at: 19, "cannot read property 'length' of a string"),
    E("[null().x]", at: 7, "cannot read property 'x' of null"),
    E("[parameters('list')[3]]", at: 19, "index 3 is out of range for an array of 3 elements"),
    E("[parameters('list')[-1]]", at: 19, "index -1 is out of range for an array of 3 elements"),
    E("[parameters('list')['a']]", at: 19, "cannot index an array with a string"),
]

@Suite("Expression functions")
struct ExpressionFunctionTests {
    @Test("context, access and logical functions", arguments: contextAndLogicCases)
    func contextAndLogic(_ c: ExpressionValueCase) throws {
        #expect(try evaluateForTest(c.template) == expressionJSON(c.expected))
    }

    @Test("string functions", arguments: stringCases)
    func strings(_ c: ExpressionValueCase) throws {
        #expect(try evaluateForTest(c.template) == expressionJSON(c.expected))
    }

    @Test("array, object and numeric functions", arguments: collectionAndNumberCases)
    func collectionsAndNumbers(_ c: ExpressionValueCase) throws {
        #expect(try evaluateForTest(c.template) == expressionJSON(c.expected))
    }

    @Test("date, encoding and identity functions", arguments: dateAndEncodingCases)
    func datesAndEncodings(_ c: ExpressionValueCase) throws {
        #expect(try evaluateForTest(c.template) == expressionJSON(c.expected))
    }

    @Test("wrong types, counts and values raise located errors", arguments: functionErrorCases)
    func functionError(_ c: ExpressionErrorCase) {
        let error = evaluationErrorForTest(c.template)
        #expect(error == ExpressionError(expression: c.template, offset: c.offset, message: c.message))
    }

    @Test("json() reports malformed text")
    func jsonParseError() throws {
        let error = try #require(evaluationErrorForTest("[json('{bad')]"))
        #expect(error.offset == 1)
        #expect(error.message.hasPrefix("'json' cannot parse its argument as JSON: "))
    }

    @Test(
        "function names are case-insensitive",
        arguments: [
            ("[TOLOWER('ABC')]", #""abc""#),
            ("[Concat('a', 'b')]", #""ab""#),
            ("[PARAMETERS('clusterName')]", #""aks-weu-01""#),
            ("[iF(TRUE(), 1, 2)]", "1"),
            ("[EQUALS(NULL(), null())]", "true"),
            ("[createobject('a', 1).A]", "1"),
            ("[DateTimeAdd('2024-01-01', 'p1d')]", #""2024-01-02""#),
        ])
    func caseInsensitiveNames(_ template: String, _ expected: String) throws {
        #expect(try evaluateForTest(template) == expressionJSON(expected))
    }

    @Test(
        "unknown functions suggest near misses",
        arguments: [
            ("[toLowr('A')]", 1, "toLowr", ["toLower"]),
            ("[concat('a', paramters('x'))]", 13, "paramters", ["parameters"]),
            ("[CONTIANS('a', 'b')]", 1, "CONTIANS", ["contains"]),
            ("[frobnicate()]", 1, "frobnicate", []),
            ("[contoso.uniqueName('a')]", 1, "contoso.uniqueName", []),
        ])
    func unknownFunction(_ template: String, _ offset: Int, _ name: String, _ suggestions: [String]) throws {
        let error = try #require(evaluationErrorForTest(template))
        #expect(error.offset == offset)
        #expect(error.message == "unknown function '\(name)'")
        #expect(error.suggestions == suggestions)
        if let first = suggestions.first {
            #expect(error.description.contains("did you mean '\(first)'?"))
        }
    }

    @Test("if evaluates only the chosen branch; and/or stop at the deciding argument")
    func laziness() throws {
        #expect(try evaluateForTest("[if(true(), 'ok', parameters('missing'))]") == .string("ok"))
        #expect(try evaluateForTest("[if(false(), div(1, 0), 'ok')]") == .string("ok"))
        #expect(try evaluateForTest("[and(false(), parameters('missing'))]") == .bool(false))
        #expect(try evaluateForTest("[or(true(), not('not a bool'))]") == .bool(true))
        // The chosen branch is evaluated, errors included.
        let error = try #require(evaluationErrorForTest("[if(true(), parameters('missing'), 'ok')]"))
        #expect(error.message == "parameter 'missing' is not defined")
        #expect(error.offset == 12)
    }

    @Test("context functions report what the context cannot supply")
    func unavailableContext() throws {
        let bare = StaticExpressionContext()
        let cases = [
            ("[resourceGroup()]", "'resourceGroup' is not available in this context"),
            ("[subscription()]", "'subscription' is not available in this context"),
            ("[current()]", "'current' is used outside a count loop at all"),
            ("[parameters('x')]", "parameter 'x' is not defined"),
        ]
        for (template, message) in cases {
            let error = try #require(evaluationErrorForTest(template, in: bare))
            #expect(error.message == message)
        }
        #expect(try evaluateForTest("[utcNow()]", in: bare) == .string("2000-01-01T00:00:00.0000000Z"))
    }

    @Test("field() errors from the context become located expression errors")
    func fieldContextError() throws {
        let error = try #require(evaluationErrorForTest("[concat('x', field('bad.alias'))]", in: FailingFieldContext()))
        #expect(error.offset == 13)
        #expect(error.message == "field 'bad.alias' cannot be read: unknown alias")
    }

    @Test("uniqueString is a deterministic 13-character base-32 hash")
    func uniqueString() throws {
        let a = try evaluateForTest("[uniqueString('sub-1', 'rg-fleet')]")
        let again = try evaluateForTest("[uniqueString(subscription().subscriptionId, resourceGroup().name)]")
        let other = try evaluateForTest("[uniqueString('sub-1', 'rg-fleet2')]")
        let text = try #require(a.string)
        #expect(a == again)
        #expect(a != other)
        #expect(text.count == 13)
        #expect(text.allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
        // Pinned so that an accidental change of the hash shows up in review.
        #expect(try evaluateForTest("[uniqueString('a')]") == .string(uniqueStringOfA))
    }

    @Test("validate() finds unknown functions and bad counts without evaluating")
    func validate() throws {
        let evaluator = ExpressionEvaluator()
        try evaluator.validate(Expression.parse("concat(parameters('missing'), toLower('A'))"))
        #expect(
            throws: ExpressionError(
                expression: "concat(toLowr('a'))", offset: 7, message: "unknown function 'toLowr'",
                suggestions: ["toLower"])
        ) {
            try evaluator.validate(Expression.parse("concat(toLowr('a'))"))
        }
        #expect(throws: ExpressionError.self) { try evaluator.validate(Expression.parse("x()[if(true())]")) }
        #expect(ExpressionEvaluator.functionNames.contains("dateTimeAdd"))
        #expect(ExpressionEvaluator.functionNames.count >= 65)
    }

    @Test("errors from an unparsed expression show its canonical text")
    func canonicalSource() throws {
        let expression = try Expression.parse("toLower( 1 )")
        #expect(
            throws: ExpressionError(
                expression: "toLower(1)", offset: 0, message: "'toLower' expects argument 1 to be a string, got an int")
        ) {
            try ExpressionEvaluator().evaluate(expression, context: expressionTestContext)
        }
    }
}

/// The value `uniqueString('a')` is pinned to.
private let uniqueStringOfA = "alal3p2icqqpi"

/// A context whose `field()` always fails, like an unknown alias would.
private struct FailingFieldContext: ExpressionContext {
    struct UnknownAlias: Error, CustomStringConvertible {
        var description: String { "unknown alias" }
    }

    func parameter(_ name: String) -> JSON? { nil }
    func field(_ path: String) throws -> JSON? { throw UnknownAlias() }
    func utcNow() -> String { "2024-01-01T00:00:00Z" }
}
