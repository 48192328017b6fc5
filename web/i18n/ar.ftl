# Närvaro: the citizen's screens, in Arabic (العربية, right to left). Same messages as sv.ftl
# (the source). Modern Standard Arabic, short sentences.

## The page

language-name = العربية
page-title-booth = غرفة الاجتماع
skip-to-content = انتقل إلى المحتوى

## Choosing a language

language-heading = مرحبًا
language-choose = اختر اللغة
booth-change-language = تغيير اللغة

## Nothing booked, or still loading

idle-heading = مرحبًا
idle-loading = جارٍ تحميل مواعيد اليوم.
idle-none = لا يوجد موعد محجوز في هذه الغرفة الآن. اسأل موظف الخدمة عند مكتب الاستقبال.
booth-help-counter = هل تحتاج إلى مساعدة؟ اسأل موظف الخدمة عند مكتب الاستقبال.
booth-offline = انقطع الاتصال بالخادم. نحاول مرة أخرى…

## Identification

identify-heading = مرحبًا
identify-meeting = موعدك مع { $agency } في الساعة { $time }
identify-question = أثبت هويتك قبل الموعد.
identify-bankid = أثبت هويتك باستخدام BankID
identify-guide = ليس لدي BankID
identify-guide-hint = يمكن لموظف الخدمة أن يتحقق من وثيقة هويتك بدلاً من ذلك.

## The guide has been called

help-sent-heading = تم إبلاغ موظف الخدمة
help-sent-identification = اذهب إلى مكتب الاستقبال. أحضر وثيقة هويتك، مثل جواز السفر أو بطاقة الهوية أو رخصة القيادة.
help-sent-failed = تعذّر إرسال الرسالة. اذهب إلى مكتب الاستقبال واسأل موظف الخدمة.
help-back = رجوع
booth-call-guide = اطلب موظف الخدمة
help-called = سيأتي موظف الخدمة قريبًا.

## BankID

bankid-heading = أثبت هويتك باستخدام BankID
bankid-meeting = لموعدك مع { $agency } في الساعة { $time }
bankid-instruction = افتح تطبيق BankID في هاتفك وامسح رمز QR.
bankid-qr-alt = رمز QR للمسح بتطبيق BankID. يتغير كل ثانية.
bankid-retry = حاول مرة أخرى
bankid-cancel = إلغاء
bankid-rfa1 = شغّل تطبيق BankID.
bankid-rfa3 = تم إلغاء العملية. حاول مرة أخرى.
bankid-rfa4 = توجد عملية تحقق من الهوية أو توقيع جارية بالفعل لرقمك الشخصي. حاول مرة أخرى.
bankid-rfa5 = حدث خطأ ما. حاول مرة أخرى.
bankid-rfa6 = تم إلغاء العملية.
bankid-rfa8 = تطبيق BankID لا يستجيب. تأكد من أنه يعمل وأن لديك اتصالاً بالإنترنت. ثم حاول مرة أخرى.
bankid-rfa9 = أدخل رمز الأمان في تطبيق BankID واختر التحقق من الهوية أو التوقيع.
bankid-rfa15b = جارٍ البحث عن BankID. تأكد من أن لديك BankID صالحًا على هذا الجهاز.
bankid-rfa16 = BankID الخاص بك قديم جدًا أو محظور. استخدم BankID آخر أو احصل على واحد جديد من البنك.
bankid-rfa17b = تعذّرت قراءة رمز QR. شغّل تطبيق BankID وامسح رمز QR.
bankid-rfa21 = توجد عملية تحقق من الهوية أو توقيع جارية.
bankid-rfa22 = حدث خطأ ما. حاول مرة أخرى.
bankid-rfa23 = صوّر وثيقة هويتك واقرأها باستخدام تطبيق BankID.

## Waiting room

waiting-heading = في انتظار موعدك…
waiting-you-meet = ستقابل
waiting-starts = يبدأ الموعد في الساعة { $time }.
waiting-minutes = { $minutes ->
    [one] بعد دقيقة واحدة تقريبًا.
    [two] بعد دقيقتين تقريبًا.
    [few] بعد { $minutes } دقائق تقريبًا.
   *[other] بعد { $minutes } دقيقة تقريبًا.
}
waiting-soon = سينضم الموظف المسؤول عن معاملتك قريبًا. لا تحتاج إلى فعل أي شيء.
waiting-starting = الموعد يبدأ. جارٍ الاتصال…
waiting-join-failed = تعذّر الاتصال بالاجتماع. نحاول مرة أخرى…
identified-bank-id = تم التحقق من هويتك باستخدام BankID.
identified-freja-eid = تم التحقق من هويتك باستخدام Freja eID.
identified-assisted = تم التحقق من هويتك. تحقق موظف الخدمة من وثيقة هويتك.
identified-dev-eid = تم التحقق من هويتك بتسجيل الدخول التجريبي.
identified-other = تم التحقق من هويتك.

## The meeting

meeting-heading = الاجتماع
meeting-you = أنت
meeting-captions = الترجمة النصية
meeting-mic-off = أوقف الميكروفون
meeting-mic-on = شغّل الميكروفون
meeting-camera-off = أوقف الكاميرا
meeting-camera-on = شغّل الكاميرا
meeting-play-audio = شغّل الصوت
meeting-leave = غادر الاجتماع
meeting-close = إغلاق
meeting-participant = مشارك
meeting-video-of = فيديو: { $name }
meeting-mic-is-off = الميكروفون مغلق
meeting-camera-is-off = الكاميرا مغلقة
meeting-video-paused-note = الفيديو متوقف مؤقتًا – اتصال ضعيف
meeting-video-paused = الفيديو متوقف مؤقتًا – اتصال ضعيف
meeting-identified = تم التحقق: { $how }
meeting-speaking = يتحدث
meeting-starting-media = جارٍ تشغيل الكاميرا والميكروفون…
meeting-media-denied = لا يُسمح باستخدام الكاميرا والميكروفون. اسمح بهما في المتصفح وحاول مرة أخرى.
meeting-media-failed = تعذّر تشغيل الكاميرا أو الميكروفون.
meeting-connecting = جارٍ الاتصال بالاجتماع…
meeting-joined = تم الاتصال. جارٍ تجهيز الصوت والصورة…
meeting-connected = أنت الآن في الاجتماع.
meeting-interrupted = الاتصال مضطرب. نحاول مرة أخرى…
meeting-dropped = انقطع الاتصال بالاجتماع ({ $code }).
meeting-reconnecting = انقطع الاتصال بالاجتماع. جارٍ إعادة الاتصال…
meeting-reconnect-failed = تعذّرت استعادة الاتصال بالاجتماع.
meeting-negotiation-failed = تعذّر تجهيز الصوت والصورة.
meeting-unreachable = تعذّر الوصول إلى خادم الاجتماع.
meeting-cancelled = تم إلغاء الاجتماع.
meeting-ended = انتهى الاجتماع.
meeting-left = لقد غادرت الاجتماع.
quality-good = الاتصال: جيد
quality-fair = الاتصال: مقبول
quality-poor = الاتصال: ضعيف
meeting-error = { $text } (خطأ { $code })
signalling-4000 = أرسل البرنامج رسالة غير صحيحة.
signalling-4001 = أرسل البرنامج رسالة غير معروفة.
signalling-4002 = الرسالة كبيرة جدًا.
signalling-4003 = البرنامج غير متصل بالاجتماع.
signalling-4004 = البرنامج متصل بالفعل.
signalling-4005 = اختلّ تزامن تجهيز الصوت والصورة.
signalling-4006 = تعذّر الاتفاق على الصوت والصورة.
signalling-4010 = دعوة الاجتماع غير موجودة.
signalling-4011 = دعوة الاجتماع غير صالحة.
signalling-4012 = انتهت صلاحية دعوة الاجتماع.
signalling-4013 = الدعوة لاجتماع آخر.
signalling-4014 = استُخدمت الدعوة من قبل.
signalling-4015 = دعوة الاجتماع غير مقبولة.
signalling-4016 = مدة صلاحية دعوة الاجتماع طويلة جدًا.
signalling-4017 = تعذّر استئناف الاجتماع. انضم مرة أخرى.
signalling-4090 = الاجتماع ممتلئ.
signalling-4091 = انتهى الاجتماع.
signalling-5000 = خطأ تقني في الخادم. حاول مرة أخرى بعد قليل.

## After the meeting

ended-heading = انتهى الاجتماع
ended-thanks = شكرًا لحضورك.
survey-satisfaction = ما مدى رضاك عن الاجتماع؟
survey-face-1 = غير راضٍ إطلاقًا
survey-face-2 = غير راضٍ
survey-face-3 = لا راضٍ ولا غير راضٍ
survey-face-4 = راضٍ
survey-face-5 = راضٍ جدًا
survey-got-help = هل حصلت على مساعدة في معاملتك؟
survey-yes = نعم
survey-no = لا
survey-send = أرسل الإجابات
survey-thanks = شكرًا على إجاباتك!
survey-failed = تعذّر إرسال الإجابات. يمكنك الضغط على تم على أي حال.
feedback-open = قدّم شكوى أو اقتراحًا
feedback-kind = ماذا تريد أن تقدّم؟
feedback-complaint = شكوى
feedback-suggestion = اقتراح
feedback-praise = ثناء
feedback-about = بماذا يتعلق الأمر؟
feedback-waiting-time = وقت الانتظار
feedback-accessibility = سهولة الوصول
feedback-technical = الصوت والصورة
feedback-treatment = طريقة المعاملة
feedback-premises = المكان
feedback-other = شيء آخر
feedback-send = أرسل
feedback-thanks = شكرًا! لقد استلمناه.
feedback-failed = تعذّر الإرسال. من فضلك اسأل موظف الخدمة.
ended-done = تم
ended-rejoin = العودة إلى الاجتماع
ended-reset-note = ستبدأ الشاشة من جديد تلقائيًا بعد قليل.

## The follow-up dashboard (/follow-up): for analysts and admins of an agency or a centre.

fu-title = المتابعة
fu-signed-in = تم تسجيل الدخول باسم { $name }
fu-scope-agency = أنت ترى أرقام { $name } في جميع مكاتب الخدمة.
fu-scope-centre = أنت ترى أرقام { $name } لجميع الجهات الحكومية.
fu-filters = الاختيار
fu-from = من
fu-to = حتى
fu-centre = مكتب الخدمة
fu-agency = الجهة الحكومية
fu-service = نوع المعاملة
fu-language = اللغة
fu-all = الكل
fu-show = عرض
fu-csv = تنزيل بصيغة CSV
fu-date-hint = التواريخ بصيغة YYYY-MM-DD
fu-period-note = تُحسب المواعيد حسب وقت البدء المحجوز، والملاحظات حسب وقت تقديمها. 366 يومًا كحد أقصى في كل مرة.
fu-invalid = تعذّرت قراءة الاختيار. اكتب التواريخ بصيغة YYYY-MM-DD، لمدة 366 يومًا كحد أقصى.
fu-refused = يمكنك رؤية أرقام جهتك الحكومية أو مكتب خدمتك فقط.
fu-failed = تعذّر جلب الأرقام الآن. حاول مرة أخرى بعد قليل.
fu-meetings-heading = المواعيد
fu-outcomes-heading = النتائج
fu-bookings = الحجوزات
fu-meetings = المواعيد المنعقدة
fu-no-shows = لم يحضروا
fu-cancelled = الملغاة
fu-chart-meetings = المواعيد في الفترة
fu-waits-heading = وقت الانتظار
fu-waits-measured = مواعيد بوقت انتظار مقاس
fu-wait-median = الوسيط
fu-wait-p90 = المئين التسعون
fu-wait-mean = المتوسط
fu-waits-note = من تسجيل الوصول عند مرشد الخدمة حتى بدء الموعد.
fu-minutes = { $value } دقيقة
fu-percent = { $value }٪
fu-satisfaction-heading = الرضا
fu-survey-answers = إجابات الاستبيان
fu-satisfaction-mean = متوسط التقييم (1–5)
fu-got-help = حصلوا على مساعدة في معاملتهم
fu-chart-satisfaction = الإجابات حسب التقييم
fu-resolved = تم حلها
fu-follow-up = تحتاج إلى متابعة
fu-referred = أُحيلت إلى جهة أخرى
fu-share-resolved = نسبة ما تم حله
fu-feedback-heading = الملاحظات
fu-chart-feedback = الملاحظات حسب النوع
fu-by-category = حسب النوع والفئة
fu-kind = النوع
fu-category = الفئة
fu-count = العدد
fu-quality-heading = جودة الاتصال
fu-quality-none = لا توجد بيانات عن جودة الاتصال لهذا الاختيار.
fu-calls-reported = مكالمات بها قياسات
fu-rtt = زمن الاستجابة (مللي ثانية)
fu-loss = فقدان الحزم (في الألف)
fu-poor = ثوانٍ بجودة ضعيفة
fu-groups-heading = حسب الشهر ومكتب الخدمة ونوع المعاملة
fu-period = الفترة
fu-no-data = لا توجد بيانات
fu-figure = المقياس
fu-value = القيمة
