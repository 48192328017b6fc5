# Närvaro: the citizen's screens, in Somali (Soomaali). Same messages as sv.ftl (the source).

## The page

language-name = Soomaali
page-title-booth = Qolka kulanka
skip-to-content = U gudub waxa ku jira

## Choosing a language

language-heading = Soo dhawoow
language-choose = Dooro luqadda
booth-change-language = Beddel luqadda

## Nothing booked, or still loading

idle-heading = Soo dhawoow
idle-loading = Waxaan soo qaadaynaa ballamaha maanta.
idle-none = Hadda ballan looma qabsan qolkan. Weydii hagaha adeegga ee miiska.
booth-help-counter = Ma u baahan tahay caawimaad? Weydii hagaha adeegga ee miiska.
booth-offline = Xiriirka server-ka waa go'ay. Mar kale ayaa la isku dayayaa…

## Identification

identify-heading = Soo dhawoow
identify-meeting = Ballantaada aad la leedahay { $agency } saacadda { $time }
identify-question = Caddee cidda aad tahay ka hor kulanka.
identify-bankid = Ku aqoonsiiso BankID
identify-guide = BankID ma haysto
identify-guide-hint = Hagaha adeeggu wuxuu hubin karaa dukumentigaaga aqoonsiga beddelkeeda.

## The guide has been called

help-sent-heading = Hagaha adeegga waa loo sheegay
help-sent-identification = Tag miiska. Keen dukumentigaaga aqoonsiga, tusaale ahaan baasaboor, kaarka aqoonsiga ama liisanka darawalnimada.
help-sent-failed = Fariinta lama diri karin. Tag miiska oo weydii hagaha adeegga.
help-back = Dib u noqo
booth-call-guide = U yeer hagaha adeegga
help-called = Hagaha adeeggu dhowaan wuu imanayaa.

## BankID

bankid-heading = Ku aqoonsiiso BankID
bankid-meeting = Ballantaada aad la leedahay { $agency } saacadda { $time }
bankid-instruction = Fur barnaamijka BankID ee taleefankaaga oo iskaan garee koodhka QR.
bankid-qr-alt = Koodhka QR ee lagu iskaan gareeyo barnaamijka BankID. Ilbiriqsi kasta wuu is beddelaa.
bankid-retry = Isku day mar kale
bankid-cancel = Jooji
bankid-rfa1 = Bilow barnaamijka BankID.
bankid-rfa3 = Ficilka waa la joojiyay. Isku day mar kale.
bankid-rfa4 = Aqoonsi ama saxiix ayaa horeba ugu socda lambarkaaga shakhsiga. Isku day mar kale.
bankid-rfa5 = Wax baa khaldamay. Isku day mar kale.
bankid-rfa6 = Ficilka waa la joojiyay.
bankid-rfa8 = Barnaamijka BankID ma jawaabayo. Hubi inuu shidan yahay iyo inaad internet haysato. Kadib isku day mar kale.
bankid-rfa9 = Geli koodhkaaga amniga ee barnaamijka BankID oo dooro Aqoonsi ama Saxiix.
bankid-rfa15b = Waxaa la raadinayaa BankID. Hubi inaad BankID ansax ah ku haysato qalabkan.
bankid-rfa16 = BankID-gaagu waa duug ama waa la xannibay. Isticmaal BankID kale ama mid cusub ka qaado bangigaaga.
bankid-rfa17b = Koodhka QR lama akhrin karin. Bilow barnaamijka BankID oo akhri koodhka QR.
bankid-rfa21 = Aqoonsi ama saxiix ayaa socda.
bankid-rfa22 = Wax baa khaldamay. Isku day mar kale.
bankid-rfa23 = Sawir oo akhri dukumentigaaga aqoonsiga adigoo isticmaalaya barnaamijka BankID.

## Waiting room

waiting-heading = Sugitaanka ballantaada…
waiting-you-meet = Waxaad la kulmaysaa
waiting-starts = Kulanku wuxuu bilaabanayaa saacadda { $time }.
waiting-minutes = { $minutes ->
    [one] Qiyaastii hal daqiiqo kadib.
   *[other] Qiyaastii { $minutes } daqiiqo kadib.
}
waiting-soon = Sarkaalka arrintaada ayaa dhowaan soo biiraya. Waxba uma baahnid inaad samayso.
waiting-starting = Kulanku wuu bilaabanayaa. Waa la isku xirayaa…
waiting-join-failed = Laguma xirmi karin kulanka. Mar kale ayaa la isku dayayaa…
identified-bank-id = Waxaa lagugu aqoonsaday BankID.
identified-freja-eid = Waxaa lagugu aqoonsaday Freja eID.
identified-assisted = Waa lagu aqoonsaday. Hagaha adeeggu wuxuu hubiyay dukumentigaaga aqoonsiga.
identified-dev-eid = Waxaa lagugu aqoonsaday galitaanka horumarinta.
identified-other = Waa lagu aqoonsaday.

## The meeting

meeting-heading = Kulan
meeting-you = Adiga
meeting-captions = Qoraalka hadalka
meeting-mic-off = Dami makarafoonka
meeting-mic-on = Shid makarafoonka
meeting-camera-off = Dami kamarada
meeting-camera-on = Shid kamarada
meeting-play-audio = Shid codka
meeting-leave = Ka bax kulanka
meeting-close = Xir
meeting-participant = Ka qaybgale
meeting-video-of = Muuqaal: { $name }
meeting-mic-is-off = makarafoonka waa xiran yahay
meeting-camera-is-off = kamarada waa xiran tahay
meeting-video-paused-note = muuqaalka waa la hakiyay – xiriir liita
meeting-video-paused = Muuqaalka waa la hakiyay – xiriir liita
meeting-identified = La aqoonsaday: { $how }
meeting-speaking = Hadlaya
meeting-starting-media = Kamarada iyo makarafoonka ayaa la shidayaa…
meeting-media-denied = Kamarada iyo makarafoonka lama isticmaali karo. U oggolow biraawsarka oo isku day mar kale.
meeting-media-failed = Kamarada ama makarafoonka lama shidi karin.
meeting-connecting = Waxaa lagugu xirayaa kulanka…
meeting-joined = Waa lagu xiray. Codka iyo muuqaalka ayaa la diyaarinayaa…
meeting-connected = Waxaad ku jirtaa kulanka.
meeting-interrupted = Xiriirka waa carqaladaysan yahay. Mar kale ayaa la isku dayayaa…
meeting-dropped = Xiriirka kulanka waa go'ay ({ $code }).
meeting-reconnecting = Xiriirka kulanka waa go'ay. Dib ayaa loo xirayaa…
meeting-reconnect-failed = Xiriirka kulanka dib looma soo celin karin.
meeting-negotiation-failed = Codka iyo muuqaalka lama diyaarin karin.
meeting-unreachable = Server-ka kulanka lama gaari karin.
meeting-cancelled = Kulanka waa la baajiyay.
meeting-ended = Kulanku wuu dhammaaday.
meeting-left = Waad ka baxday kulanka.
quality-good = Xiriirka: wanaagsan
quality-fair = Xiriirka: dhexdhexaad
quality-poor = Xiriirka: liita
meeting-error = { $text } (khalad { $code })
signalling-4000 = Barnaamijku wuxuu soo diray fariin khaldan.
signalling-4001 = Barnaamijku wuxuu soo diray fariin aan la aqoon.
signalling-4002 = Fariintu aad bay u weyneyd.
signalling-4003 = Barnaamijku kuma xirna kulanka.
signalling-4004 = Barnaamijku horeba wuu ku xirnaa.
signalling-4005 = Diyaarinta codka iyo muuqaalka way isku dhex yaacday.
signalling-4006 = Codka iyo muuqaalka lama diyaarin karin.
signalling-4010 = Casuumaadda kulanka ma jirto.
signalling-4011 = Casuumaadda kulanka ma ansaxsana.
signalling-4012 = Casuumaadda kulanka waa dhacday.
signalling-4013 = Casuumaaddu waxay u tahay kulan kale.
signalling-4014 = Casuumaadda horeba waa la isticmaalay.
signalling-4015 = Casuumaadda kulanka lama aqbalin.
signalling-4016 = Casuumaadda kulanka waqti aad u dheer ayay ansax tahay.
signalling-4017 = Kulanka lama sii wadi karin. Mar kale ku biir.
signalling-4090 = Kulanku waa buuxaa.
signalling-4091 = Kulanku wuu dhammaaday.
signalling-5000 = Khalad farsamo ayaa ka dhacay server-ka. Isku day mar kale wax yar kadib.

## After the meeting

ended-heading = Kulanku wuu dhammaaday
ended-thanks = Waad ku mahadsan tahay imaatinkaaga.
survey-satisfaction = Intee in le'eg ayaad ku qanacsan tahay kulanka?
survey-face-1 = Aad ugama qanacsani
survey-face-2 = Kama qanacsani
survey-face-3 = Dhexdhexaad
survey-face-4 = Waan ku qanacsanahay
survey-face-5 = Aad baan ugu qanacsanahay
survey-got-help = Ma laguu caawiyay arrintaada?
survey-yes = Haa
survey-no = Maya
survey-send = Dir jawaabaha
survey-thanks = Waad ku mahadsan tahay jawaabahaaga!
survey-failed = Jawaabaha lama diri karin. Weli waad riixi kartaa Dhammaad.
feedback-open = Sheeg cabasho ama soo jeedin
feedback-kind = Maxaad rabtaa inaad sheegto?
feedback-complaint = Cabasho
feedback-suggestion = Soo jeedin
feedback-praise = Ammaan
feedback-about = Maxay ku saabsan tahay?
feedback-waiting-time = Waqtiga sugitaanka
feedback-accessibility = Fududaanta isticmaalka
feedback-technical = Codka iyo muuqaalka
feedback-treatment = Sida laygula dhaqmay
feedback-premises = Goobta
feedback-other = Wax kale
feedback-send = Dir
feedback-thanks = Mahadsanid! Waan helnay.
feedback-failed = Lama diri karin. Fadlan weydii hagaha adeegga.
ended-done = Dhammaad
ended-rejoin = Ku laabo kulanka
ended-reset-note = Shaashaddu waxay iskeed dib u bilaabanaysaa wax yar kadib.

## The follow-up dashboard (/follow-up): for analysts and admins of an agency or a centre.

fu-title = Dabagal
fu-signed-in = Waxaad u gashay sida { $name }
fu-scope-agency = Waxaad aragtaa tirooyinka { $name }, xafiisyada adeegga oo dhan.
fu-scope-centre = Waxaad aragtaa tirooyinka { $name }, hay'adaha oo dhan.
fu-filters = Doorasho
fu-from = Laga bilaabo
fu-to = Ilaa
fu-centre = Xafiiska adeegga
fu-agency = Hay'adda
fu-service = Nooca arrinta
fu-language = Luqadda
fu-all = Dhammaan
fu-show = Muuji
fu-csv = Soo deji CSV ahaan
fu-date-hint = Taariikhaha sida YYYY-MM-DD
fu-period-note = Kulamada waxaa lagu tiriyaa waqtiga bilowga ee la ballansaday, ra'yiga waqtiga la bixiyay. Ugu badnaan 366 maalmood mar kasta.
fu-invalid = Doorashada lama akhrin karo. Qor taariikhaha sida YYYY-MM-DD, ugu badnaan 366 maalmood.
fu-refused = Waxaad arki kartaa oo keliya tirooyinka hay'addaada ama xafiiskaaga adeegga.
fu-failed = Tirooyinka hadda lama soo qaadi karo. Mar kale isku day wax yar kadib.
fu-meetings-heading = Kulamada
fu-outcomes-heading = Natiijooyinka
fu-bookings = Ballamaha
fu-meetings = Kulamada la qabtay
fu-no-shows = Ma iman
fu-cancelled = La joojiyay
fu-chart-meetings = Kulamada muddada
fu-waits-heading = Waqtiga sugitaanka
fu-waits-measured = Kulamo leh sugitaan la cabbiray
fu-wait-median = Dhexdhexaadka
fu-wait-p90 = Boqolleyda 90aad
fu-wait-mean = Celceliska
fu-waits-note = Laga bilaabo is-diiwaangelinta hagaha adeegga ilaa bilowga kulanka.
fu-minutes = { $value } daqiiqo
fu-percent = { $value }%
fu-satisfaction-heading = Qanacsanaanta
fu-survey-answers = Jawaabaha sahanka
fu-satisfaction-mean = Celceliska dhibcaha (1–5)
fu-got-help = Waxay heleen caawimaad arrintooda
fu-chart-satisfaction = Jawaabaha dhibic kasta
fu-resolved = La xalliyay
fu-follow-up = Waxay u baahan tahay dabagal
fu-referred = Meel kale loo gudbiyay
fu-share-resolved = Qaybta la xalliyay
fu-feedback-heading = Ra'yiga
fu-chart-feedback = Ra'yiga nooc kasta
fu-by-category = Nooc iyo qayb kasta
fu-kind = Nooca
fu-category = Qaybta
fu-count = Tirada
fu-quality-heading = Tayada wicitaanka
fu-quality-none = Ma jiraan xog ku saabsan tayada wicitaanka doorashadan.
fu-calls-reported = Wicitaanno leh cabbiraad
fu-rtt = Waqtiga jawaabta (ms)
fu-loss = Luminta xirmooyinka (kunkii)
fu-poor = Ilbiriqsiyo tayo xun leh
fu-groups-heading = Bil kasta, xafiis adeeg iyo nooca arrinta
fu-period = Muddada
fu-no-data = Xog ma jirto
fu-figure = Cabbirka
fu-value = Qiimaha
