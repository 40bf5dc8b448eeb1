"""Word tables for the normalizer: abbreviations, units, currencies, months, states, context words.

Kept apart from the rules so the rules read as logic and the tables can grow without touching them.
"""
from __future__ import annotations


def _pairs(spec: str) -> dict[str, str]:
    """'a=alpha; b=beta' -> {'a': 'alpha', 'b': 'beta'}."""
    return dict(item.strip().split("=", 1) for item in spec.split(";") if item.strip())


MONTHS = _pairs(
    "jan=January; feb=February; mar=March; apr=April; may=May; jun=June; jul=July; aug=August; "
    "sep=September; oct=October; nov=November; dec=December"
)
MONTH_NAMES = (None, *MONTHS.values())  # 1-based
WEEKDAYS = _pairs(
    "mon=Monday; tu=Tuesday; tue=Tuesday; tues=Tuesday; wed=Wednesday; th=Thursday; thu=Thursday; "
    "thur=Thursday; thurs=Thursday; fri=Friday; sat=Saturday; sun=Sunday"
)

# Forms of address, before a name.
HONORIFICS = _pairs("mr=mister; mrs=misses; ms=miz; messrs=messieurs")
# Abbreviations read the same wherever they stand (dot optional).
ALWAYS = {
    **HONORIFICS,
    **_pairs(
        "vs=versus; etc=et cetera; approx=approximately; "
        "ltd=limited; inc=incorporated; corp=corporation; dept=department; govt=government; jr=junior; "
        "e.g=for example; i.e=that is; a.k.a=also known as; viz=namely; ph.d=P H D; wwi=World War one; "
        "wwii=World War two"
    ),
}
# Titles and ranks, before a name; read only with their dot ("Gen." is general, "Gen" may be a name).
TITLES = _pairs(
    "gen=general; maj=major; lt=lieutenant; lieut=lieutenant; col=colonel; capt=captain; "
    "sgt=sergeant; cpl=corporal; pvt=private; adm=admiral; cmdr=commander; brig=brigadier; "
    "rev=reverend; hon=honorable; gov=governor; sen=senator; rep=representative; pres=president; "
    "prof=professor; supt=superintendent"
)
# Read only with their dot ("Sat." is Saturday, "Sat" may be the verb).
WITH_DOT = {
    **TITLES,
    **_pairs("co=company; bros=brothers; sr=senior; esp=especially; cf=compare; esq=esquire; rt=right; sept=September"),
    **{k: v for k, v in MONTHS.items() if k != "may"},
    **{k: v for k, v in WEEKDAYS.items() if len(k) > 2},
}
# Read only before a number ("No. 5", "vol. 2"); "no" elsewhere is the word.
BEFORE_NUMBER = _pairs(
    "no=number; nos=numbers; pp=pages; vol=volume; vols=volumes; fig=figure; figs=figures; ch=chapter; "
    "art=article; eq=equation; ext=extension; apt=apartment"
)
# Read before a number by their own rule, since elsewhere they are letters or units: "p. 41" page,
# "sec. 5" section (but "30 sec." seconds).
NUMBER_PREFIXES = _pairs("p=page; sec=section")
# Title before a name, place type after one.
TITLE_OR_PLACE = {"st": ("saint", "street"), "dr": ("doctor", "drive")}
TITLE_ONLY = _pairs("mt=mount; ft=fort; fr=father")  # before a name only
TITLE_NOUNS = frozenset({"dr"})  # titles that are nouns on their own after a determiner: "ask your Dr."
# Abbreviations that a name or a date follows, so their dot almost never ends a sentence: "Dr. Smith",
# "Jan. 5", "Smith vs. Jones", "Sammy Davis Jr. sang".
BEFORE_A_NAME = frozenset(
    {*HONORIFICS, *TITLES, *TITLE_OR_PLACE, *TITLE_ONLY, *(k for k, v in WITH_DOT.items() if v in MONTHS.values())}
    | {"jr", "sr", "vs", "cf", "approx"}
)
STREET_TYPES = _pairs(
    "st=street; street=street; ave=avenue; avenue=avenue; dr=drive; drive=drive; rd=road; road=road; "
    "blvd=boulevard; boulevard=boulevard; ln=lane; lane=lane; ct=court; court=court; "
    "expy=expressway; expressway=expressway; hwy=highway; highway=highway; pkwy=parkway; "
    "parkway=parkway; pl=place; place=place; ter=terrace; terrace=terrace; cir=circle; circle=circle; "
    "sq=square; square=square; way=way"
)
DIRECTIONS = _pairs("n=North; s=South; e=East; w=West; ne=Northeast; nw=Northwest; se=Southeast; sw=Southwest")

STATES = _pairs(
    "AL=Alabama; AK=Alaska; AZ=Arizona; AR=Arkansas; CA=California; CO=Colorado; CT=Connecticut; "
    "DE=Delaware; FL=Florida; GA=Georgia; HI=Hawaii; ID=Idaho; IL=Illinois; IN=Indiana; IA=Iowa; "
    "KS=Kansas; KY=Kentucky; LA=Louisiana; ME=Maine; MD=Maryland; MA=Massachusetts; MI=Michigan; "
    "MN=Minnesota; MS=Mississippi; MO=Missouri; MT=Montana; NE=Nebraska; NV=Nevada; NH=New Hampshire; "
    "NJ=New Jersey; NM=New Mexico; NY=New York; NC=North Carolina; ND=North Dakota; OH=Ohio; "
    "OK=Oklahoma; OR=Oregon; PA=Pennsylvania; RI=Rhode Island; SC=South Carolina; SD=South Dakota; "
    "TN=Tennessee; TX=Texas; UT=Utah; VT=Vermont; VA=Virginia; WA=Washington; WV=West Virginia; "
    "WI=Wisconsin; WY=Wyoming; DC=D C; PR=Puerto Rico"
)

# Unit symbol -> (singular, plural). Looked up exactly, then lowercased (so "KG" works, "M" does not
# become metres: single capitals are excluded from the fallback).
UNITS = {
    k: tuple(v.split("|"))
    for k, v in _pairs(
        "mm=millimeter|millimeters; cm=centimeter|centimeters; m=meter|meters; km=kilometer|kilometers; "
        "um=micrometer|micrometers; nm=nanometer|nanometers; "
        "in=inch|inches; ft=foot|feet; yd=yard|yards; mi=mile|miles; "
        "kms=kilometer|kilometers; p=penny|pence; mg=milligram|milligrams; g=gram|grams; "
        "kg=kilogram|kilograms; kgs=kilogram|kilograms; ug=microgram|micrograms; mcg=microgram|micrograms; "
        "lb=pound|pounds; lbs=pound|pounds; oz=ounce|ounces; ml=milliliter|milliliters; "
        "ul=microliter|microliters; l=liter|liters; cl=centiliter|centiliters; dl=deciliter|deciliters; "
        "gal=gallon|gallons; qt=quart|quarts; tsp=teaspoon|teaspoons; tbsp=tablespoon|tablespoons; "
        "ms=millisecond|milliseconds; ns=nanosecond|nanoseconds; "
        "s=second|seconds; sec=second|seconds; secs=second|seconds; min=minute|minutes; "
        "mins=minute|minutes; h=hour|hours; hr=hour|hours; hrs=hour|hours; wk=week|weeks; wks=week|weeks; "
        "yr=year|years; yrs=year|years; "
        "mph=mile per hour|miles per hour; kph=kilometer per hour|kilometers per hour; "
        "kmh=kilometer per hour|kilometers per hour; fps=frame per second|frames per second; "
        "rpm=revolution per minute|revolutions per minute; bpm=beat per minute|beats per minute; "
        "kb=kilobyte|kilobytes; mb=megabyte|megabytes; gb=gigabyte|gigabytes; tb=terabyte|terabytes; "
        "kbps=kilobit per second|kilobits per second; mbps=megabit per second|megabits per second; "
        "gbps=gigabit per second|gigabits per second; hz=hertz|hertz; khz=kilohertz|kilohertz; "
        "mhz=megahertz|megahertz; ghz=gigahertz|gigahertz; w=watt|watts; kw=kilowatt|kilowatts; "
        "mw=megawatt|megawatts; gw=gigawatt|gigawatts; kwh=kilowatt hour|kilowatt hours; "
        "mah=milliamp hour|milliamp hours; v=volt|volts; kv=kilovolt|kilovolts; mv=millivolt|millivolts; "
        "ma=milliamp|milliamps; ohm=ohm|ohms; kohm=kilo ohm|kilo ohms; mohm=mega ohm|mega ohms; "
        "j=joule|joules; kj=kilojoule|kilojoules; cal=calorie|calories; "
        "kcal=kilocalorie|kilocalories; hp=horsepower|horsepower; psi=pound per square inch|pounds per "
        "square inch; kpa=kilopascal|kilopascals; atm=atmosphere|atmospheres; db=decibel|decibels; "
        "ppm=part per million|parts per million; px=pixel|pixels; ha=hectare|hectares; "
        "mol=mole|moles; °c=degree Celsius|degrees Celsius; °f=degree Fahrenheit|degrees Fahrenheit; "
        "°=degree|degrees; bn=billion|billion; "
        # single capitals are looked up exactly, and read as units only where no label precedes
        # the number ("a 100 W bulb", but "seat 5A"): see `_units.units_after`
        "W=watt|watts; V=volt|volts; A=amp|amps; L=liter|liters"
    ).items()
}
# Only after a slash ("$20/mo", "3 km/h"): too ambiguous on their own.
PER_UNITS = {
    **{k: v[0] for k, v in UNITS.items()},
    **_pairs("d=day; day=day; week=week; mo=month; month=month; year=year; ea=each"),
}
SLASH_IDIOMS = {"24/7": "twenty four seven", "9/11": "nine eleven", "50/50": "fifty fifty"}
# Shorthand written with a slash, said as what it stands for.
SLASH_WORDS = _pairs("w/o=without; w/=with; c/o=care of; n/a=not applicable; b/c=because; a/k/a=also known as")
POWERS = {"2": "square", "s": "square", "3": "cubic", "c": "cubic"}  # "m2" (or m²), "sq ft", "cu ft"
LENGTH_UNITS = frozenset("mm cm m km in ft yd mi um nm".split())  # the ones that can be squared or cubed

# symbol -> (singular, plural, minor singular, minor plural); "" when there is no minor unit
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "", ""),
    "₩": ("won", "won", "", ""),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "₽": ("ruble", "rubles", "kopeck", "kopecks"),
}
CURRENCY_SYMBOLS = "".join(CURRENCIES)
# ISO 4217 codes said as the currency: code -> (the dollar's country, symbol)
CURRENCY_CODES = {
    "USD": ("United States", "$"), "CAD": ("Canadian", "$"), "AUD": ("Australian", "$"),
    "NZD": ("New Zealand", "$"), "HKD": ("Hong Kong", "$"), "SGD": ("Singapore", "$"), "EUR": ("", "€"),
    "GBP": ("", "£"), "JPY": ("", "¥"), "INR": ("", "₹"), "RUB": ("", "₽"), "KRW": ("", "₩"),
}
DOLLAR_PREFIXES = _pairs(
    "US=U S; A=Australian; AU=Australian; C=Canadian; CA=Canadian; NZ=New Zealand; HK=Hong Kong; S=Singapore"
)
SCALES = _pairs(
    "thousand=thousand; million=million; billion=billion; trillion=trillion; k=thousand; m=million; "
    "mn=million; mm=million; b=billion; bn=billion; t=trillion; tn=trillion"
)
SYMBOL_NAMES = {
    "&": "and", "@": "at", "%": "percent", "+": "plus", "=": "equals", "#": "hash", "/": "slash",
    "°": "degrees", "§": "section", "×": "times", "÷": "divided by", "±": "plus or minus",
    "$": "dollar", "£": "pound", "€": "euro", "¥": "yen", "₩": "won", "₹": "rupee", "₽": "ruble", "¢": "cent",
}  # fmt: skip
SILENT_SYMBOLS = "*^~|\\_<>"  # no spoken form in running text

TIMEZONES = frozenset(
    "est edt cst cdt mst mdt pst pdt akst akdt hst gmt utc bst cet cest eet eest ist jst aest aedt".split()
)

# Nouns after which a Roman numeral is a cardinal ("Chapter IV" -> four, "World War II" -> two).
ROMAN_CARDINAL_NOUNS = frozenset(
    "chapter chapters part parts book books volume vol act scene section article appendix war phase "
    "stage level type class grade series canto psalm lesson unit figure fig table plate step round "
    "title schedule tier mark mk bowl no number episode season division league formula version "
    "model page item rule clause paragraph line verse category protocol annex track apollo".split()
)
# Nouns a Roman numeral counts as an ordinal when it comes *before* them: "XXI century" -> twenty
# first century, "the XIV Olympiad", "III Corps".
ROMAN_ORDINAL_NOUNS = frozenset(
    "century centuries millennium dynasty dynasties olympiad olympiads corps congress amendment "
    "legion army division".split()
)
# Words before a noun: after them "Dr." is the noun doctor ("ask your Dr.").
DETERMINERS = frozenset("the a an my your his her its our their this that each every any no".split())
# Words around "3 - 1" that make a spaced dash between numbers a score, not a subtraction.
SCORE_CONTEXT = frozenset(
    "won win wins winning lost lose loses losing beat beats beating defeated defeat drew draw tied tie "
    "led lead leads leading trailed trailing finished ended score scored scores scoring victory loss "
    "result final margin set sets game games match".split()
)
# Labels whose number is an identifier, read digit by digit in its groups: "ISBN 0-306-40615-2",
# "part number 4523", "runway 09/27", "patent 7,654,321" ("number", "No." or "#" may come between).
IDENTIFIER_LABELS = frozenset(
    "isbn part serial order tracking reference ref confirmation invoice policy patent patents "
    "application docket receipt ticket runway runways sku upc".split()
)
# Words around "4/5" that make it a score, read "four out of five": "rated 4/5", "7/10 stars".
SCORE_WORDS = frozenset("rated rating ratings rate scored score scores scoring graded grade stars points marks".split())
# Names of monarchs and popes (and first names: "John Smith III"): a Roman numeral after them is a
# regnal ordinal ("Henry V" the fifth), after other names a cardinal ("Rocky II", "Apollo XI").
REGNAL_NAMES = frozenset(
    "Henry Edward George William Richard James Charles Louis Elizabeth Mary Anne John Stephen Philip "
    "Ferdinand Frederick Francis Joseph Leopold Peter Paul Pius Leo Gregory Benedict Clement Innocent "
    "Urban Boniface Alexander Nicholas Ivan Catherine David Robert Malcolm Alfonso Carlos Juan Gustav "
    "Gustavus Christian Olaf Harald Haakon Magnus Sigismund Rudolf Otto Wilhelm Napoleon Constantine "
    "Justinian Theodosius Ptolemy Ramesses Amenhotep Thutmose Sixtus Julius Victor Umberto Pedro Manuel "
    "Sancho Casimir Matthias Selim Suleiman Mehmed Murad Darius Xerxes Cyrus Antiochus Herod Edmund "
    "Harold Canute Alfred Athelstan Kenneth Duncan Donald Macbeth Lothair Pepin Childeric Clovis "
    "Baldwin Godfrey Conrad Lothar Maximilian Franz Augustus Frederick Isabella Juana Margaret "
    "Cleopatra Seti Senusret Amenemhat Shalmaneser Ashurnasirpal Nebuchadnezzar Artaxerxes Mithridates "
    "Seleucus Demetrius Michael Basil Romanus Isaac Andronicus Vasily Dmitri Boris Fyodor Mieszko "
    "Boleslaw Ladislaus Wladyslaw Andrew Eric Valdemar Sigurd Magnus Alexios Leopold Ludwig Adolf "
    "Innocent Hadrian Marcus Sebastian Afonso Joao Hugh Guy Raymond Bohemond Amadeus Victor "
    "Emmanuel".split()
)
# Titles before a monarch's name: "Queen Victoria I", "Tsar Boris I" are regnal whatever the name.
ROYAL_TITLES = frozenset(
    "King Queen Pope Emperor Empress Tsar Czar Tsarina Kaiser Sultan Pharaoh Prince Princess Duke "
    "Duchess Archduke Shah Emir Caliph".split()
)
# Capitalised words that are not names, so a Roman numeral after them is not a regnal number.
FUNCTION_WORDS = frozenset(
    "the a an and or but nor then when did do does was were is am are be have has had if so as that "
    "what who how why where which while after before because since until now here there this these "
    "those can could will would shall should may might must yes no not also all both either neither "
    "once today yesterday tomorrow i you he she it we they me him her us them my your his its our "
    "their of in on at to for from with by about into over under than".split()
)
# Words that start a new sentence after an abbreviation's dot ("... Elm St. It was").
SENTENCE_STARTERS = frozenset(
    "the a an it he she they we i you this that there these those his her its our their my in on at "
    "but and so then when if as after before however one all some what who why how where while".split()
)
# Nouns that mark a preceding four-digit number as a count, not a year ("1984 people").
COUNT_NOUNS = frozenset(
    "people men women children persons feet teeth mice geese police cattle sheep fish deer staff "
    "personnel infantry cavalry troops dollars pounds euros".split()
)
NOT_PLURAL = frozenset(
    "was has his its this thus is as us yes always perhaps whereas afterwards towards besides sometimes "
    "hers ours yours theirs less unless across nevertheless does goes".split()
)
# Labels after which a number is an identifier, never a year ("page 1984", "No. 1600").
NUMBER_LABELS = frozenset(
    "number no page pages pp room route flight model boeing airbus highway hwy apartment apt suite "
    "item line verse divide multiply add subtract times plus minus than channel track exit seat gate flat "
    "row block building floor bay pier platform terminal unit".split()
)
# All-caps two-letter words read as words rather than spelled ("Vote NO", but "US", "IT").
SHORT_CAPS_WORDS = frozenset("NO GO SO OH OK HI MY WE ME BE DO UP".split())
# Acronyms whose letters spell an ordinary word but which are always spelled out.
SPELLED_ACRONYMS = frozenset("WHO IT US UK EU UN ID OR PC TV CD DVD PM AM IS ER AI".split())
URL_WORDS = _pairs("jpg=J peg; jpeg=J peg")  # file extensions said as words, not spelled
# HTML and SSML tags, written but never read ("<b>here</b>"): block tags end a sentence, inline
# ones do not even part words ("<b>H</b>ello"). Other angle-bracket words stay text ("Press <Enter>").
MARKUP_BLOCK = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr "
    "img li main nav ol p pre section table tbody td tfoot th thead tr ul speak break paragraph sentence s".split()
)
MARKUP_INLINE = frozenset(
    "a abbr b bdi bdo big cite code del dfn em font i ins kbd mark q samp small span strike strong sub sup "
    "time tt u var emphasis prosody say-as phoneme voice lang audio w token".split()
)
