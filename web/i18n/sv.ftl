# Närvaro: the citizen's screens (booth kiosk and meeting view), in Swedish. Swedish is the
# source: every other file has exactly these messages, with the same variables (web/tests/i18n.rs).
# Plain words and short sentences: many who use the booth read little.

## The page

language-name = Svenska
page-title-booth = Mötesrum
skip-to-content = Hoppa till innehållet

## Choosing a language (the first screen; always in Swedish, each language named in itself)

language-heading = Välkommen
language-choose = Välj språk
booth-change-language = Byt språk

## Nothing booked, or still loading

idle-heading = Välkommen
idle-loading = Vi hämtar dagens möten.
idle-none = Inget möte är bokat i det här rummet just nu. Fråga servicevägledaren vid disken.
booth-help-counter = Behöver du hjälp? Fråga servicevägledaren vid disken.
booth-offline = Kontakten med servern är bruten. Försöker igen…

## Identification

identify-heading = Välkommen
identify-meeting = Ditt möte med { $agency } klockan { $time }
identify-question = Visa vem du är innan mötet.
identify-bankid = Identifiera dig med BankID
identify-guide = Jag har inget BankID
identify-guide-hint = Servicevägledaren kan kontrollera din ID-handling i stället.

## The guide has been called

help-sent-heading = Servicevägledaren har fått besked
help-sent-identification = Gå till disken. Ta med din ID-handling, till exempel pass, ID-kort eller körkort.
help-sent-failed = Beskedet kunde inte skickas. Gå till disken och fråga servicevägledaren.
help-back = Tillbaka
booth-call-guide = Kalla på servicevägledaren
help-called = Servicevägledaren kommer snart.

## BankID (BankID's own recommended messages, RFA1–RFA23)

bankid-heading = Identifiera dig med BankID
bankid-meeting = Inför ditt möte med { $agency } klockan { $time }
bankid-instruction = Öppna BankID-appen i din mobil och skanna QR-koden.
bankid-qr-alt = QR-kod att skanna med BankID-appen. Den byts varje sekund.
bankid-retry = Försök igen
bankid-cancel = Avbryt
bankid-rfa1 = Starta BankID-appen.
bankid-rfa3 = Åtgärden avbröts. Försök igen.
bankid-rfa4 = En identifiering eller underskrift pågår redan för ditt personnummer. Försök igen.
bankid-rfa5 = Något gick fel. Försök igen.
bankid-rfa6 = Åtgärden avbröts.
bankid-rfa8 = BankID-appen svarar inte. Kontrollera att den är startad och att du har internetanslutning. Försök sedan igen.
bankid-rfa9 = Skriv in din säkerhetskod i BankID-appen och välj Identifiera eller Skriv under.
bankid-rfa15b = Söker efter BankID. Säkerställ att du har ett giltigt BankID på den här enheten.
bankid-rfa16 = Ditt BankID är för gammalt eller spärrat. Använd ett annat BankID eller skaffa ett nytt hos din bank.
bankid-rfa17b = Misslyckades att läsa av QR-koden. Starta BankID-appen och läs av QR-koden.
bankid-rfa21 = En identifiering eller underskrift pågår.
bankid-rfa22 = Något gick fel. Försök igen.
bankid-rfa23 = Fotografera och läs av din ID-handling med BankID-appen.

## Waiting room

waiting-heading = Väntar på ditt möte…
waiting-you-meet = Du ska träffa
waiting-starts = Mötet börjar klockan { $time }.
waiting-minutes = { $minutes ->
    [one] Om ungefär en minut.
   *[other] Om ungefär { $minutes } minuter.
}
waiting-soon = Din handläggare ansluter snart. Du behöver inte göra något.
waiting-starting = Mötet börjar. Ansluter…
waiting-join-failed = Det gick inte att ansluta till mötet. Försöker igen…
identified-bank-id = Du är identifierad med BankID.
identified-freja-eid = Du är identifierad med Freja eID.
identified-assisted = Du är identifierad. Servicevägledaren har kontrollerat din ID-handling.
identified-dev-eid = Du är identifierad med utvecklingsinloggningen.
identified-other = Du är identifierad.

## The meeting

meeting-heading = Möte
meeting-you = Du
meeting-captions = Textning
meeting-mic-off = Stäng av mikrofonen
meeting-mic-on = Slå på mikrofonen
meeting-camera-off = Stäng av kameran
meeting-camera-on = Slå på kameran
meeting-play-audio = Slå på ljudet
meeting-leave = Lämna mötet
meeting-close = Stäng
meeting-participant = Deltagare
meeting-video-of = Video: { $name }
meeting-mic-is-off = mikrofon av
meeting-camera-is-off = kamera av
meeting-video-paused-note = video pausad – dålig anslutning
meeting-video-paused = Videon är pausad – dålig anslutning
meeting-identified = Identifierad: { $how }
meeting-speaking = Talar
meeting-starting-media = Startar kamera och mikrofon…
meeting-media-denied = Kameran och mikrofonen får inte användas. Tillåt dem i webbläsaren och försök igen.
meeting-media-failed = Kameran eller mikrofonen kunde inte startas.
meeting-connecting = Ansluter till mötet…
meeting-joined = Ansluten. Kopplar upp ljud och bild…
meeting-connected = Du är med i mötet.
meeting-interrupted = Anslutningen är störd. Försöker igen…
meeting-dropped = Förbindelsen med mötet bröts ({ $code }).
meeting-reconnecting = Förbindelsen med mötet bröts. Återansluter…
meeting-reconnect-failed = Förbindelsen med mötet kunde inte återställas.
meeting-negotiation-failed = Ljud och bild kunde inte kopplas upp.
meeting-unreachable = Mötesservern kunde inte nås.
meeting-cancelled = Mötet har ställts in.
meeting-ended = Mötet är avslutat.
meeting-left = Du har lämnat mötet.
quality-good = Anslutning: bra
quality-fair = Anslutning: godtagbar
quality-poor = Anslutning: dålig
# A signalling error: its text, then its number for support.
meeting-error = { $text } (fel { $code })
signalling-4000 = Klienten skickade ett felaktigt meddelande.
signalling-4001 = Klienten skickade ett okänt meddelande.
signalling-4002 = Meddelandet var för stort.
signalling-4003 = Klienten är inte ansluten till mötet.
signalling-4004 = Klienten är redan ansluten.
signalling-4005 = Förhandlingen av ljud och bild kom i otakt.
signalling-4006 = Ljud och bild kunde inte förhandlas.
signalling-4010 = Inbjudan till mötet saknas.
signalling-4011 = Inbjudan till mötet är ogiltig.
signalling-4012 = Inbjudan till mötet har gått ut.
signalling-4013 = Inbjudan gäller ett annat möte.
signalling-4014 = Inbjudan har redan använts.
signalling-4015 = Inbjudan till mötet godtas inte.
signalling-4016 = Inbjudan till mötet gäller för länge.
signalling-4017 = Mötet kunde inte återupptas. Anslut igen.
signalling-4090 = Mötet är fullt.
signalling-4091 = Mötet är avslutat.
signalling-5000 = Tekniskt fel på servern. Försök igen om en stund.

## After the meeting

ended-heading = Mötet är avslutat
ended-thanks = Tack för att du kom.
survey-satisfaction = Hur nöjd är du med mötet?
survey-face-1 = Mycket missnöjd
survey-face-2 = Missnöjd
survey-face-3 = Varken nöjd eller missnöjd
survey-face-4 = Nöjd
survey-face-5 = Mycket nöjd
survey-got-help = Fick du hjälp med ditt ärende?
survey-yes = Ja
survey-no = Nej
survey-send = Skicka svaren
survey-thanks = Tack för dina svar!
survey-failed = Svaren kunde inte skickas. Du kan trycka på Klar ändå.
feedback-open = Lämna klagomål eller förslag
feedback-kind = Vad vill du lämna?
feedback-complaint = Klagomål
feedback-suggestion = Förslag
feedback-praise = Beröm
feedback-about = Vad gäller det?
feedback-waiting-time = Väntetiden
feedback-accessibility = Tillgänglighet
feedback-technical = Ljud och bild
feedback-treatment = Bemötandet
feedback-premises = Lokalen
feedback-other = Något annat
feedback-send = Skicka
feedback-thanks = Tack! Vi har tagit emot det.
feedback-failed = Det kunde inte skickas. Fråga gärna servicevägledaren.
ended-done = Klar
ended-rejoin = Gå tillbaka till mötet
ended-reset-note = Skärmen börjar om av sig själv efter en stund.

## The follow-up dashboard (/follow-up): for analysts and admins of an agency or a centre.

fu-title = Uppföljning
fu-signed-in = Inloggad som { $name }
fu-scope-agency = Du ser siffror för { $name }, vid alla servicekontor.
fu-scope-centre = Du ser siffror för { $name }, för alla myndigheter.
fu-filters = Urval
fu-from = Från och med
fu-to = Till och med
fu-centre = Servicekontor
fu-agency = Myndighet
fu-service = Ärendetyp
fu-language = Språk
fu-all = Alla
fu-show = Visa
fu-csv = Ladda ner som CSV
fu-date-hint = Datum som ÅÅÅÅ-MM-DD
fu-period-note = Möten räknas efter bokad starttid, synpunkter efter när de lämnades. Högst 366 dagar åt gången.
fu-invalid = Urvalet gick inte att läsa. Ange datum som ÅÅÅÅ-MM-DD, högst 366 dagar.
fu-refused = Du kan bara se siffror för din egen myndighet eller ditt eget servicekontor.
fu-failed = Siffrorna kunde inte hämtas just nu. Försök igen om en stund.
fu-meetings-heading = Möten
fu-outcomes-heading = Utfall
fu-bookings = Bokningar
fu-meetings = Hållna möten
fu-no-shows = Uteblivna besök
fu-cancelled = Avbokade
fu-chart-meetings = Möten i perioden
fu-waits-heading = Väntetid
fu-waits-measured = Möten med mätt väntetid
fu-wait-median = Median
fu-wait-p90 = 90:e percentilen
fu-wait-mean = Medelvärde
fu-waits-note = Från incheckning hos servicevägledaren till mötets start.
fu-minutes = { $value } min
fu-percent = { $value } %
fu-satisfaction-heading = Nöjdhet
fu-survey-answers = Svar på enkäten
fu-satisfaction-mean = Medelbetyg (1–5)
fu-got-help = Fick hjälp med sitt ärende
fu-chart-satisfaction = Svar per betyg
fu-resolved = Lösta
fu-follow-up = Behöver följas upp
fu-referred = Hänvisade vidare
fu-share-resolved = Andel lösta
fu-feedback-heading = Synpunkter
fu-chart-feedback = Synpunkter per slag
fu-by-category = Per slag och kategori
fu-kind = Slag
fu-category = Kategori
fu-count = Antal
fu-quality-heading = Samtalskvalitet
fu-quality-none = Inga uppgifter om samtalskvalitet finns för det här urvalet.
fu-calls-reported = Samtal med mätvärden
fu-rtt = Svarstid (ms)
fu-loss = Paketförlust (promille)
fu-poor = Sekunder med dålig kvalitet
fu-groups-heading = Per månad, servicekontor och ärendetyp
fu-period = Period
fu-no-data = Inga uppgifter
fu-figure = Mått
fu-value = Värde
