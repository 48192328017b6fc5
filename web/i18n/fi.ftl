# Närvaro: the citizen's screens, in Finnish (suomi). Same messages as sv.ftl (the source).

## The page

language-name = Suomi
page-title-booth = Tapaamishuone
skip-to-content = Siirry sisältöön

## Choosing a language

language-heading = Tervetuloa
language-choose = Valitse kieli
booth-change-language = Vaihda kieli

## Nothing booked, or still loading

idle-heading = Tervetuloa
idle-loading = Haemme päivän tapaamisia.
idle-none = Tähän huoneeseen ei ole nyt varattu tapaamista. Kysy palveluneuvojalta tiskiltä.
booth-help-counter = Tarvitsetko apua? Kysy palveluneuvojalta tiskiltä.
booth-offline = Yhteys palvelimeen on katkennut. Yritetään uudelleen…

## Identification

identify-heading = Tervetuloa
identify-meeting = Tapaamisesi: { $agency } kello { $time }
identify-question = Todista henkilöllisyytesi ennen tapaamista.
identify-bankid = Tunnistaudu BankID:llä
identify-guide = Minulla ei ole BankID:tä
identify-guide-hint = Palveluneuvoja voi sen sijaan tarkistaa henkilöllisyystodistuksesi.

## The guide has been called

help-sent-heading = Palveluneuvoja on saanut viestin
help-sent-identification = Mene tiskille. Ota mukaan henkilöllisyystodistus, esimerkiksi passi, henkilökortti tai ajokortti.
help-sent-failed = Viestiä ei voitu lähettää. Mene tiskille ja kysy palveluneuvojalta.
help-back = Takaisin
booth-call-guide = Kutsu palveluneuvoja
help-called = Palveluneuvoja tulee pian.

## BankID

bankid-heading = Tunnistaudu BankID:llä
bankid-meeting = Tapaamista varten: { $agency } kello { $time }
bankid-instruction = Avaa BankID-sovellus puhelimessasi ja skannaa QR-koodi.
bankid-qr-alt = QR-koodi, jonka skannaat BankID-sovelluksella. Se vaihtuu joka sekunti.
bankid-retry = Yritä uudelleen
bankid-cancel = Peruuta
bankid-rfa1 = Käynnistä BankID-sovellus.
bankid-rfa3 = Toiminto peruttiin. Yritä uudelleen.
bankid-rfa4 = Henkilötunnuksellesi on jo käynnissä tunnistus tai allekirjoitus. Yritä uudelleen.
bankid-rfa5 = Jokin meni vikaan. Yritä uudelleen.
bankid-rfa6 = Toiminto peruttiin.
bankid-rfa8 = BankID-sovellus ei vastaa. Tarkista, että se on käynnissä ja että sinulla on internetyhteys. Yritä sitten uudelleen.
bankid-rfa9 = Kirjoita turvakoodisi BankID-sovellukseen ja valitse Tunnistaudu tai Allekirjoita.
bankid-rfa15b = Etsitään BankID:tä. Varmista, että tällä laitteella on voimassa oleva BankID.
bankid-rfa16 = BankID:si on liian vanha tai estetty. Käytä toista BankID:tä tai hanki uusi pankistasi.
bankid-rfa17b = QR-koodin lukeminen epäonnistui. Käynnistä BankID-sovellus ja lue QR-koodi.
bankid-rfa21 = Tunnistus tai allekirjoitus on käynnissä.
bankid-rfa22 = Jokin meni vikaan. Yritä uudelleen.
bankid-rfa23 = Valokuvaa ja lue henkilöllisyystodistuksesi BankID-sovelluksella.

## Waiting room

waiting-heading = Odotetaan tapaamistasi…
waiting-you-meet = Tapaat
waiting-starts = Tapaaminen alkaa kello { $time }.
waiting-minutes = { $minutes ->
    [one] Noin minuutin kuluttua.
   *[other] Noin { $minutes } minuutin kuluttua.
}
waiting-soon = Käsittelijäsi liittyy pian. Sinun ei tarvitse tehdä mitään.
waiting-starting = Tapaaminen alkaa. Yhdistetään…
waiting-join-failed = Tapaamiseen ei saatu yhteyttä. Yritetään uudelleen…
identified-bank-id = Sinut on tunnistettu BankID:llä.
identified-freja-eid = Sinut on tunnistettu Freja eID:llä.
identified-assisted = Sinut on tunnistettu. Palveluneuvoja on tarkistanut henkilöllisyystodistuksesi.
identified-dev-eid = Sinut on tunnistettu kehityskäytön kirjautumisella.
identified-other = Sinut on tunnistettu.

## The meeting

meeting-heading = Tapaaminen
meeting-you = Sinä
meeting-captions = Tekstitys
meeting-mic-off = Sulje mikrofoni
meeting-mic-on = Avaa mikrofoni
meeting-camera-off = Sulje kamera
meeting-camera-on = Avaa kamera
meeting-play-audio = Laita ääni päälle
meeting-leave = Poistu tapaamisesta
meeting-close = Sulje
meeting-participant = Osallistuja
meeting-video-of = Video: { $name }
meeting-mic-is-off = mikrofoni pois
meeting-camera-is-off = kamera pois
meeting-video-paused-note = video tauolla – huono yhteys
meeting-video-paused = Video on tauolla – huono yhteys
meeting-identified = Tunnistettu: { $how }
meeting-speaking = Puhuu
meeting-starting-media = Käynnistetään kamera ja mikrofoni…
meeting-media-denied = Kameraa ja mikrofonia ei saa käyttää. Salli ne selaimessa ja yritä uudelleen.
meeting-media-failed = Kameraa tai mikrofonia ei voitu käynnistää.
meeting-connecting = Yhdistetään tapaamiseen…
meeting-joined = Yhdistetty. Avataan ääni ja kuva…
meeting-connected = Olet mukana tapaamisessa.
meeting-interrupted = Yhteydessä on häiriö. Yritetään uudelleen…
meeting-dropped = Yhteys tapaamiseen katkesi ({ $code }).
meeting-reconnecting = Yhteys tapaamiseen katkesi. Yhdistetään uudelleen…
meeting-reconnect-failed = Yhteyttä tapaamiseen ei voitu palauttaa.
meeting-negotiation-failed = Ääntä ja kuvaa ei saatu yhdistettyä.
meeting-unreachable = Tapaamispalvelimeen ei saatu yhteyttä.
meeting-cancelled = Tapaaminen on peruttu.
meeting-ended = Tapaaminen on päättynyt.
meeting-left = Olet poistunut tapaamisesta.
quality-good = Yhteys: hyvä
quality-fair = Yhteys: kohtalainen
quality-poor = Yhteys: huono
meeting-error = { $text } (virhe { $code })
signalling-4000 = Ohjelma lähetti virheellisen viestin.
signalling-4001 = Ohjelma lähetti tuntemattoman viestin.
signalling-4002 = Viesti oli liian suuri.
signalling-4003 = Ohjelma ei ole yhteydessä tapaamiseen.
signalling-4004 = Ohjelma on jo yhteydessä.
signalling-4005 = Äänen ja kuvan sopiminen meni epätahtiin.
signalling-4006 = Ääntä ja kuvaa ei voitu sopia.
signalling-4010 = Kutsu tapaamiseen puuttuu.
signalling-4011 = Kutsu tapaamiseen ei ole kelvollinen.
signalling-4012 = Kutsu tapaamiseen on vanhentunut.
signalling-4013 = Kutsu koskee toista tapaamista.
signalling-4014 = Kutsu on jo käytetty.
signalling-4015 = Kutsua tapaamiseen ei hyväksytä.
signalling-4016 = Kutsu tapaamiseen on voimassa liian kauan.
signalling-4017 = Tapaamista ei voitu jatkaa. Liity uudelleen.
signalling-4090 = Tapaaminen on täynnä.
signalling-4091 = Tapaaminen on päättynyt.
signalling-5000 = Tekninen vika palvelimella. Yritä hetken kuluttua uudelleen.

## After the meeting

ended-heading = Tapaaminen on päättynyt
ended-thanks = Kiitos, että tulit.
survey-satisfaction = Kuinka tyytyväinen olet tapaamiseen?
survey-face-1 = Erittäin tyytymätön
survey-face-2 = Tyytymätön
survey-face-3 = Ei tyytyväinen eikä tyytymätön
survey-face-4 = Tyytyväinen
survey-face-5 = Erittäin tyytyväinen
survey-got-help = Saitko apua asiaasi?
survey-yes = Kyllä
survey-no = Ei
survey-send = Lähetä vastaukset
survey-thanks = Kiitos vastauksistasi!
survey-failed = Vastauksia ei voitu lähettää. Voit silti painaa Valmis.
feedback-open = Anna valitus tai ehdotus
feedback-kind = Mitä haluat antaa?
feedback-complaint = Valitus
feedback-suggestion = Ehdotus
feedback-praise = Kiitos
feedback-about = Mitä se koskee?
feedback-waiting-time = Odotusaika
feedback-accessibility = Esteettömyys
feedback-technical = Ääni ja kuva
feedback-treatment = Kohtelu
feedback-premises = Tilat
feedback-other = Jokin muu
feedback-send = Lähetä
feedback-thanks = Kiitos! Olemme vastaanottaneet sen.
feedback-failed = Sitä ei voitu lähettää. Kysy palveluneuvojalta.
ended-done = Valmis
ended-rejoin = Palaa tapaamiseen
ended-reset-note = Näyttö alkaa alusta itsestään hetken kuluttua.

## The follow-up dashboard (/follow-up): for analysts and admins of an agency or a centre.

fu-title = Seuranta
fu-signed-in = Kirjautuneena: { $name }
fu-scope-agency = Näet viraston { $name } luvut kaikissa palvelupisteissä.
fu-scope-centre = Näet palvelupisteen { $name } luvut kaikilta virastoilta.
fu-filters = Rajaus
fu-from = Alkaen
fu-to = Päättyen
fu-centre = Palvelupiste
fu-agency = Virasto
fu-service = Asiatyyppi
fu-language = Kieli
fu-all = Kaikki
fu-show = Näytä
fu-csv = Lataa CSV-tiedostona
fu-date-hint = Päivämäärät muodossa VVVV-KK-PP
fu-period-note = Tapaamiset lasketaan varatun alkamisajan mukaan, palaute sen antamisajan mukaan. Enintään 366 päivää kerrallaan.
fu-invalid = Rajausta ei voitu lukea. Anna päivämäärät muodossa VVVV-KK-PP, enintään 366 päivää.
fu-refused = Voit nähdä vain oman virastosi tai oman palvelupisteesi luvut.
fu-failed = Lukuja ei juuri nyt saatu haettua. Yritä hetken päästä uudelleen.
fu-meetings-heading = Tapaamiset
fu-outcomes-heading = Tulokset
fu-bookings = Varaukset
fu-meetings = Pidetyt tapaamiset
fu-no-shows = Saapumatta jääneet
fu-cancelled = Peruutetut
fu-chart-meetings = Tapaamiset kaudella
fu-waits-heading = Odotusaika
fu-waits-measured = Tapaamiset, joissa odotus mitattiin
fu-wait-median = Mediaani
fu-wait-p90 = 90. persentiili
fu-wait-mean = Keskiarvo
fu-waits-note = Palveluneuvojan luona ilmoittautumisesta tapaamisen alkuun.
fu-minutes = { $value } min
fu-percent = { $value } %
fu-satisfaction-heading = Tyytyväisyys
fu-survey-answers = Kyselyn vastaukset
fu-satisfaction-mean = Keskiarvosana (1–5)
fu-got-help = Sai apua asiaansa
fu-chart-satisfaction = Vastaukset arvosanoittain
fu-resolved = Ratkaistut
fu-follow-up = Vaatii jatkotoimia
fu-referred = Ohjattu eteenpäin
fu-share-resolved = Ratkaistujen osuus
fu-feedback-heading = Palaute
fu-chart-feedback = Palaute lajeittain
fu-by-category = Lajeittain ja luokittain
fu-kind = Laji
fu-category = Luokka
fu-count = Määrä
fu-quality-heading = Yhteyden laatu
fu-quality-none = Tälle rajaukselle ei ole tietoja yhteyden laadusta.
fu-calls-reported = Puhelut, joista on mittauksia
fu-rtt = Viive (ms)
fu-loss = Pakettihäviö (promillea)
fu-poor = Sekunnit huonolla laadulla
fu-groups-heading = Kuukausittain, palvelupisteittäin ja asiatyypeittäin
fu-period = Jakso
fu-no-data = Ei tietoja
fu-figure = Mittari
fu-value = Arvo
